// GrpcPersonDirectory: a PersonDirectory that asks IdentityService.GetPerson
// over a channel (the in-process one in iamd) as a service principal, which
// needs iam.people:read at "/". Thread-safe.
#ifndef IAM_SERVICES_PASSWORD_GRPC_PERSON_DIRECTORY_H_
#define IAM_SERVICES_PASSWORD_GRPC_PERSON_DIRECTORY_H_

#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "proto/iam/v1/identity.grpc.pb.h"
#include "services/password/person_directory.h"

namespace iam::password {

class GrpcPersonDirectory final : public PersonDirectory {
 public:
  // `internal_token` (may be empty) proves an in-process caller; see
  // services/common/caller.h.
  GrpcPersonDirectory(std::shared_ptr<grpc::Channel> channel,
                      std::string principal, std::string internal_token);
  absl::StatusOr<PersonRecord> Get(absl::string_view id) override;

 private:
  std::unique_ptr<iam::v1::IdentityService::Stub> stub_;
  const std::string principal_;
  const std::string internal_token_;
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_GRPC_PERSON_DIRECTORY_H_
