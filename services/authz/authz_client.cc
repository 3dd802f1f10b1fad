#include "services/authz/authz_client.h"


#include "absl/strings/str_cat.h"
#include "services/common/caller.h"
#include "services/common/grpc_status.h"

namespace iam::authz {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(10);

}  // namespace

GrpcAuthorizer::GrpcAuthorizer(std::shared_ptr<grpc::Channel> channel,
                               std::string principal, std::string internal_token)
    : stub_(iam::v1::AuthzService::NewStub(channel)),
      principal_(std::move(principal)),
      internal_token_(std::move(internal_token)) {}

absl::Status GrpcAuthorizer::Require(absl::string_view caller,
                                     absl::string_view permission) {
  grpc::ClientContext context;
  PrepareInternalCall(&context, principal_, internal_token_, kDeadline);
  iam::v1::CheckRequest request;
  request.set_person_id(std::string(caller));
  request.set_permission(std::string(permission));
  request.set_scope("/");
  iam::v1::CheckResponse response;
  grpc::Status s = stub_->Check(&context, request, &response);
  if (!s.ok()) {
    // Fail closed: an authorization that cannot be decided is refused.
    return absl::UnavailableError(absl::StrCat(
        "cannot authorize the caller: authz service: ", s.error_message()));
  }
  if (!response.allowed()) {
    return absl::PermissionDeniedError(
        absl::StrCat("caller '", caller, "' lacks permission '", permission,
                     "' at scope \"/\": ", response.reason()));
  }
  return absl::OkStatus();
}

GrpcSubjectSink::GrpcSubjectSink(std::shared_ptr<grpc::Channel> channel,
                                 std::string principal, std::string internal_token)
    : stub_(iam::v1::AuthzService::NewStub(channel)),
      principal_(std::move(principal)),
      internal_token_(std::move(internal_token)) {}

absl::Status GrpcSubjectSink::Sync(const iam::v1::Person& person) {
  grpc::ClientContext context;
  PrepareInternalCall(&context, principal_, internal_token_, kDeadline);
  iam::v1::SyncSubjectRequest request;
  request.set_person_id(person.id());
  request.set_status(person.status());
  for (const auto& g : person.groups()) request.add_groups(g);
  iam::v1::WriteResponse response;
  return FromGrpcStatus(stub_->SyncSubject(&context, request, &response));
}

}  // namespace iam::authz
