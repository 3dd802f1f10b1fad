#include "services/password/grpc_person_directory.h"


#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "services/common/caller.h"

namespace iam::password {

GrpcPersonDirectory::GrpcPersonDirectory(std::shared_ptr<grpc::Channel> channel,
                                         std::string principal,
                                         std::string internal_token)
    : stub_(iam::v1::IdentityService::NewStub(channel)),
      principal_(std::move(principal)),
      internal_token_(std::move(internal_token)) {}

absl::StatusOr<PersonRecord> GrpcPersonDirectory::Get(absl::string_view id) {
  grpc::ClientContext context;
  PrepareInternalCall(&context, principal_, internal_token_, absl::Seconds(5));
  iam::v1::GetPersonRequest request;
  request.set_id(std::string(id));
  iam::v1::GetPersonResponse response;
  grpc::Status s = stub_->GetPerson(&context, request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(absl::StrCat("person '", id, "' does not exist"));
  }
  if (!s.ok()) {
    // Fail closed: a person whose status cannot be read does not log in.
    return absl::UnavailableError(
        absl::StrCat("cannot read the person from the identity service: ",
                     s.error_message()));
  }
  return PersonRecordOf(response.person());
}

}  // namespace iam::password
