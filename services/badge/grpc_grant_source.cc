#include "services/badge/grpc_grant_source.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/caller.h"

namespace iam::badge {
namespace {

// Admission waits on these calls; a door should not hang on a stuck service.
constexpr absl::Duration kDeadline = absl::Seconds(2);

void Prepare(grpc::ClientContext* context, const std::string& principal,
             const std::string& internal_token) {
  PrepareInternalCall(context, principal, internal_token, kDeadline);
}

absl::Status FromGrpc(absl::string_view service, const grpc::Status& s) {
  auto code = static_cast<absl::StatusCode>(s.error_code());
  if (code != absl::StatusCode::kNotFound) code = absl::StatusCode::kUnavailable;
  return absl::Status(code, absl::StrCat(service, ": ", s.error_message()));
}

}  // namespace

GrpcGrantSource::GrpcGrantSource(std::shared_ptr<grpc::Channel> channel,
                                 std::string principal, std::string internal_token)
    : identity_(iam::v1::IdentityService::NewStub(channel)),
      authz_(iam::v1::AuthzService::NewStub(channel)),
      principal_(std::move(principal)),
      internal_token_(std::move(internal_token)) {}

absl::StatusOr<iam::v1::PersonStatus> GrpcGrantSource::Status(
    absl::string_view person_id) {
  grpc::ClientContext context;
  Prepare(&context, principal_, internal_token_);
  iam::v1::GetPersonRequest request;
  request.set_id(std::string(person_id));
  iam::v1::GetPersonResponse response;
  grpc::Status s = identity_->GetPerson(&context, request, &response);
  if (!s.ok()) return FromGrpc("identity service", s);
  return response.person().status();
}

absl::StatusOr<PersonGrants> GrpcGrantSource::Lookup(absl::string_view person_id,
                                                     absl::string_view scope) {
  PersonGrants grants;
  grpc::ClientContext context;
  Prepare(&context, principal_, internal_token_);
  iam::v1::ListPermissionsRequest request;
  request.set_person_id(std::string(person_id));
  request.set_scope(std::string(scope));
  iam::v1::ListPermissionsResponse response;
  grpc::Status s = authz_->ListPermissions(&context, request, &response);
  // A person identity knows but authz has never been told about holds
  // nothing there; identity below says whether they exist at all.
  if (!s.ok() && !(s.error_code() == grpc::StatusCode::NOT_FOUND &&
                   absl::StartsWith(s.error_message(), "unknown person"))) {
    return absl::UnavailableError(absl::StrCat("authz service: ", s.error_message()));
  }
  for (const iam::v1::GrantedPermission& g : response.permissions()) {
    AddGrantedRoles(g, &grants);
  }
  if (!grants.roles.empty()) {
    // Authz grants nothing to a person who is not active, and identity tells
    // it about a suspension or a departure before committing it: grants from
    // authz therefore imply an active person, and identity need not be asked.
    grants.status = iam::v1::PERSON_STATUS_ACTIVE;
    return grants;
  }
  absl::StatusOr<iam::v1::PersonStatus> status = Status(person_id);
  if (!status.ok()) return status.status();
  grants.status = *status;
  return grants;
}

}  // namespace iam::badge
