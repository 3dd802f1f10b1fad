// gRPC implementations of CredentialRevoker (PasswordService
// RevokeCredentials) and BadgeRevoker (BadgeService RevokeBadgesOf,
// SuspendBadgesOf, ResumeBadge). Separate from grpc_ports.h so that a
// deployment without those services does not link them. Thread-safe.
#ifndef IAM_SERVICES_LIFECYCLE_GRPC_REVOKERS_H_
#define IAM_SERVICES_LIFECYCLE_GRPC_REVOKERS_H_

#include <memory>

#include <grpcpp/channel.h>

#include "proto/iam/v1/badge.grpc.pb.h"
#include "proto/iam/v1/password.grpc.pb.h"
#include "services/lifecycle/grpc_ports.h"
#include "services/lifecycle/ports.h"

namespace iam::lifecycle {

class GrpcCredentialRevoker final : public CredentialRevoker {
 public:
  GrpcCredentialRevoker(std::shared_ptr<grpc::Channel> channel, CallAs as);
  absl::StatusOr<Result> Revoke(absl::string_view person_id,
                                absl::string_view reason) override;

 private:
  std::unique_ptr<iam::v1::PasswordService::Stub> stub_;
  const CallAs as_;
};

class GrpcBadgeRevoker final : public BadgeRevoker {
 public:
  GrpcBadgeRevoker(std::shared_ptr<grpc::Channel> channel, CallAs as);
  absl::StatusOr<Result> RevokeAll(absl::string_view person_id,
                                   absl::string_view reason) override;
  absl::StatusOr<Result> SuspendAll(absl::string_view person_id,
                                    absl::string_view reason) override;
  absl::StatusOr<Revision> Resume(absl::string_view badge_id,
                                  absl::string_view reason) override;

 private:
  // RevokeBadgesOf or SuspendBadgesOf: same request, same response.
  using PersonBadgesRpc = grpc::Status (iam::v1::BadgeService::Stub::*)(
      grpc::ClientContext*, const iam::v1::PersonBadgesRequest&,
      iam::v1::PersonBadgesResponse*);
  absl::StatusOr<Result> Call(PersonBadgesRpc rpc, absl::string_view person_id,
                              absl::string_view reason);

  std::unique_ptr<iam::v1::BadgeService::Stub> stub_;
  const CallAs as_;
};

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_GRPC_REVOKERS_H_
