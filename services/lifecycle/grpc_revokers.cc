#include "services/lifecycle/grpc_revokers.h"

namespace iam::lifecycle {

GrpcCredentialRevoker::GrpcCredentialRevoker(std::shared_ptr<grpc::Channel> channel,
                                             CallAs as)
    : stub_(iam::v1::PasswordService::NewStub(channel)), as_(std::move(as)) {}

absl::StatusOr<CredentialRevoker::Result> GrpcCredentialRevoker::Revoke(
    absl::string_view person_id, absl::string_view reason) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::RevokeCredentialsRequest request;
  request.set_person_id(std::string(person_id));
  request.set_reason(std::string(reason));
  iam::v1::RevokeCredentialsResponse response;
  grpc::Status s = stub_->RevokeCredentials(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "password service");
  return Result{response.revoked(), response.revision()};
}

GrpcBadgeRevoker::GrpcBadgeRevoker(std::shared_ptr<grpc::Channel> channel, CallAs as)
    : stub_(iam::v1::BadgeService::NewStub(channel)), as_(std::move(as)) {}

absl::StatusOr<BadgeRevoker::Result> GrpcBadgeRevoker::RevokeAll(
    absl::string_view person_id, absl::string_view reason) {
  return Call(&iam::v1::BadgeService::Stub::RevokeBadgesOf, person_id, reason);
}

absl::StatusOr<BadgeRevoker::Result> GrpcBadgeRevoker::SuspendAll(
    absl::string_view person_id, absl::string_view reason) {
  return Call(&iam::v1::BadgeService::Stub::SuspendBadgesOf, person_id, reason);
}

absl::StatusOr<Revision> GrpcBadgeRevoker::Resume(absl::string_view badge_id,
                                                  absl::string_view reason) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::BadgeChangeRequest request;
  request.set_badge_id(std::string(badge_id));
  request.set_reason(std::string(reason));
  iam::v1::BadgeResponse response;
  grpc::Status s = stub_->ResumeBadge(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "badge service");
  return Revision{response.revision()};
}

absl::StatusOr<BadgeRevoker::Result> GrpcBadgeRevoker::Call(
    PersonBadgesRpc rpc, absl::string_view person_id, absl::string_view reason) {
  grpc::ClientContext context;
  as_.Prepare(&context);
  iam::v1::PersonBadgesRequest request;
  request.set_person_id(std::string(person_id));
  request.set_reason(std::string(reason));
  iam::v1::PersonBadgesResponse response;
  grpc::Status s = (stub_.get()->*rpc)(&context, request, &response);
  if (!s.ok()) return FromGrpc(s, "badge service");
  BadgeRevoker::Result r;
  for (const auto& b : response.badges()) r.badge_ids.push_back(b.id());
  r.revision = response.revision();
  return r;
}

}  // namespace iam::lifecycle
