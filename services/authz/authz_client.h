// Clients of the AuthzService for other services: an Authorizer that asks
// Check over gRPC, and a SubjectSink that calls SyncSubject. Both call as a
// service principal (e.g. "svc:identity"), which the policy must bind to the
// identity_service and factory_system roles. Thread-safe.
#ifndef IAM_SERVICES_AUTHZ_AUTHZ_CLIENT_H_
#define IAM_SERVICES_AUTHZ_AUTHZ_CLIENT_H_

#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "proto/iam/v1/authz.grpc.pb.h"
#include "services/common/authorizer.h"
#include "services/identity/subject_sink.h"

namespace iam::authz {

class GrpcAuthorizer final : public Authorizer {
 public:
  // `internal_token` (may be empty) proves an in-process caller; see caller.h.
  GrpcAuthorizer(std::shared_ptr<grpc::Channel> channel, std::string principal,
                 std::string internal_token);
  absl::Status Require(absl::string_view caller,
                       absl::string_view permission) override;

 private:
  std::unique_ptr<iam::v1::AuthzService::Stub> stub_;
  const std::string principal_;
  const std::string internal_token_;
};

class GrpcSubjectSink final : public identity::SubjectSink {
 public:
  GrpcSubjectSink(std::shared_ptr<grpc::Channel> channel, std::string principal,
                  std::string internal_token);
  absl::Status Sync(const iam::v1::Person& person) override;

 private:
  std::unique_ptr<iam::v1::AuthzService::Stub> stub_;
  const std::string principal_;
  const std::string internal_token_;
};

}  // namespace iam::authz

#endif  // IAM_SERVICES_AUTHZ_AUTHZ_CLIENT_H_
