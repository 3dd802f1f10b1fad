#include "services/lifecycle/grpc_ports.h"


#include "absl/strings/str_cat.h"
#include "services/common/caller.h"

namespace iam::lifecycle {

void CallAs::Prepare(grpc::ClientContext* context) const {
  PrepareInternalCall(context, principal, internal_token, absl::Seconds(10));
}

absl::Status FromGrpc(const grpc::Status& status, absl::string_view service) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(service, ": ", status.error_message()));
}

GrpcPersonDirectory::GrpcPersonDirectory(std::shared_ptr<grpc::Channel> channel,
                                         CallAs as)
    : stub_(iam::v1::IdentityService::NewStub(channel)), as_(std::move(as)) {}

absl::StatusOr<iam::v1::Person> GrpcPersonDirectory::Get(absl::string_view person_id) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::GetPersonRequest request;
  request.set_id(std::string(person_id));
  iam::v1::GetPersonResponse response;
  grpc::Status s = stub_->GetPerson(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "identity service");
  return response.person();
}

absl::StatusOr<std::pair<iam::v1::Person, Revision>> GrpcPersonDirectory::Create(
    const iam::v1::Person& person, absl::string_view reason) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::CreatePersonRequest request;
  *request.mutable_person() = person;
  request.set_reason(std::string(reason));
  iam::v1::CreatePersonResponse response;
  grpc::Status s = stub_->CreatePerson(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "identity service");
  return std::make_pair(response.person(), Revision{response.revision()});
}

absl::StatusOr<std::pair<iam::v1::Person, Revision>> GrpcPersonDirectory::Update(
    const iam::v1::Person& person, const std::vector<std::string>& mask,
    absl::string_view reason) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::UpdatePersonRequest request;
  *request.mutable_person() = person;
  for (const auto& m : mask) request.add_update_mask(m);
  request.set_reason(std::string(reason));
  iam::v1::UpdatePersonResponse response;
  grpc::Status s = stub_->UpdatePerson(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "identity service");
  return std::make_pair(response.person(), Revision{response.revision()});
}

absl::StatusOr<std::pair<iam::v1::Person, Revision>>
GrpcPersonDirectory::RecordAttestation(absl::string_view person_id,
                                       iam::v1::AttestationType type,
                                       absl::string_view reason) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::RecordAttestationRequest request;
  request.set_person_id(std::string(person_id));
  request.set_type(type);
  request.set_reason(std::string(reason));
  iam::v1::RecordAttestationResponse response;
  grpc::Status s = stub_->RecordAttestation(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "identity service");
  return std::make_pair(response.person(), Revision{response.revision()});
}

GrpcAccessGrants::GrpcAccessGrants(std::shared_ptr<grpc::Channel> channel, CallAs as)
    : stub_(iam::v1::AuthzService::NewStub(channel)), as_(std::move(as)) {}

absl::StatusOr<std::vector<iam::v1::RoleBinding>> GrpcAccessGrants::ListOf(
    absl::string_view person_id) {
  std::vector<iam::v1::RoleBinding> out;
  iam::v1::ListBindingsRequest request;
  request.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
  request.mutable_subject()->set_id(std::string(person_id));
  request.set_page_size(1000);
  while (true) {
    grpc::ClientContext context;
    as_.Prepare(&context);
    iam::v1::ListBindingsResponse response;
    grpc::Status s = stub_->ListBindings(&context, request, &response);
    if (!s.ok()) return FromGrpc(s, "authz service");
    for (auto& b : *response.mutable_bindings()) out.push_back(std::move(b));
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return out;
}

absl::StatusOr<std::pair<iam::v1::RoleBinding, Revision>> GrpcAccessGrants::Bind(
    const iam::v1::RoleBinding& binding) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::CreateBindingRequest request;
  *request.mutable_binding() = binding;
  iam::v1::CreateBindingResponse response;
  grpc::Status s = stub_->CreateBinding(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "authz service");
  return std::make_pair(response.binding(), Revision{response.revision()});
}

absl::StatusOr<Revision> GrpcAccessGrants::Unbind(absl::string_view binding_id,
                                                  absl::string_view reason) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::DeleteRequest request;
  request.set_name(std::string(binding_id));
  request.set_reason(std::string(reason));
  iam::v1::WriteResponse response;
  grpc::Status s = stub_->DeleteBinding(&context, request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return Revision{0};
  if (!s.ok()) return FromGrpc(s, "authz service");
  return Revision{response.revision()};
}

absl::StatusOr<AccessGrants::Removed> GrpcAccessGrants::UnbindAllOf(
    absl::string_view person_id, absl::string_view reason) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::DeleteBindingsOfRequest request;
  request.set_person_id(std::string(person_id));
  request.set_reason(std::string(reason));
  iam::v1::DeleteBindingsOfResponse response;
  grpc::Status s = stub_->DeleteBindingsOf(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "authz service");
  Removed out;
  for (std::string& id : *response.mutable_deleted_binding_ids()) {
    out.binding_ids.push_back(std::move(id));
  }
  // With nothing to delete authz answers its current revision: no change.
  if (!out.binding_ids.empty()) out.revision = response.revision();
  return out;
}

}  // namespace iam::lifecycle
