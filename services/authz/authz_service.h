// AuthzServiceImpl: the gRPC face of the authz engine. Thin: it
// authenticates the caller, authorizes admin RPCs through the engine itself,
// translates requests, audits, and maps statuses. Thread-safe.
//
// EngineAuthorizer: the Authorizer used by services co-hosted with the engine
// (and by this service): it asks the engine's current snapshot.
#ifndef IAM_SERVICES_AUTHZ_AUTHZ_SERVICE_H_
#define IAM_SERVICES_AUTHZ_AUTHZ_SERVICE_H_

#include <functional>
#include <string>

#include "proto/iam/v1/authz.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/change_recorder.h"
#include "services/authz/engine.h"
#include "services/common/authorizer.h"
#include "services/common/caller.h"
#include "services/common/clock.h"
#include "services/common/thread_pool.h"

namespace iam::authz {

// Permissions the admin API requires, at scope "/".
inline constexpr char kPermAuthzCheck[] = "iam.authz:check";
inline constexpr char kPermPolicyRead[] = "iam.policy:read";
inline constexpr char kPermPolicyWrite[] = "iam.policy:write";
inline constexpr char kPermBindingsRead[] = "iam.bindings:read";
inline constexpr char kPermBindingsWrite[] = "iam.bindings:write";
inline constexpr char kPermSubjectsWrite[] = "iam.subjects:write";

class EngineAuthorizer final : public Authorizer {
 public:
  // REQUIRES: engine outlives this object.
  explicit EngineAuthorizer(const AuthzEngine* engine) : engine_(engine) {}
  absl::Status Require(absl::string_view caller,
                       absl::string_view permission) override;

 private:
  const AuthzEngine* const engine_;
};

class AuthzServiceImpl final : public iam::v1::AuthzService::CallbackService {
 public:
  // REQUIRES: every pointer outlives this object.
  AuthzServiceImpl(AuthzEngine* engine, audit::AuditLog* audit_log,
                   const CallerConfig& caller_config);

  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const iam::v1::CheckRequest* request,
                                  iam::v1::CheckResponse* response) override;
  grpc::ServerUnaryReactor* BatchCheck(
      grpc::CallbackServerContext* context,
      const iam::v1::BatchCheckRequest* request,
      iam::v1::BatchCheckResponse* response) override;
  grpc::ServerUnaryReactor* ListPermissions(
      grpc::CallbackServerContext* context,
      const iam::v1::ListPermissionsRequest* request,
      iam::v1::ListPermissionsResponse* response) override;
  grpc::ServerUnaryReactor* WhoCan(grpc::CallbackServerContext* context,
                                   const iam::v1::WhoCanRequest* request,
                                   iam::v1::WhoCanResponse* response) override;
  grpc::ServerUnaryReactor* PutPermission(
      grpc::CallbackServerContext* context,
      const iam::v1::PutPermissionRequest* request,
      iam::v1::WriteResponse* response) override;
  grpc::ServerUnaryReactor* DeletePermission(
      grpc::CallbackServerContext* context,
      const iam::v1::DeleteRequest* request,
      iam::v1::WriteResponse* response) override;
  grpc::ServerUnaryReactor* PutRole(grpc::CallbackServerContext* context,
                                    const iam::v1::PutRoleRequest* request,
                                    iam::v1::WriteResponse* response) override;
  grpc::ServerUnaryReactor* DeleteRole(
      grpc::CallbackServerContext* context,
      const iam::v1::DeleteRequest* request,
      iam::v1::WriteResponse* response) override;
  grpc::ServerUnaryReactor* PutScope(grpc::CallbackServerContext* context,
                                     const iam::v1::PutScopeRequest* request,
                                     iam::v1::WriteResponse* response) override;
  grpc::ServerUnaryReactor* DeleteScope(
      grpc::CallbackServerContext* context,
      const iam::v1::DeleteRequest* request,
      iam::v1::WriteResponse* response) override;
  grpc::ServerUnaryReactor* CreateBinding(
      grpc::CallbackServerContext* context,
      const iam::v1::CreateBindingRequest* request,
      iam::v1::CreateBindingResponse* response) override;
  grpc::ServerUnaryReactor* DeleteBinding(
      grpc::CallbackServerContext* context,
      const iam::v1::DeleteRequest* request,
      iam::v1::WriteResponse* response) override;
  grpc::ServerUnaryReactor* ListBindings(
      grpc::CallbackServerContext* context,
      const iam::v1::ListBindingsRequest* request,
      iam::v1::ListBindingsResponse* response) override;
  grpc::ServerUnaryReactor* GetPolicy(
      grpc::CallbackServerContext* context,
      const iam::v1::GetPolicyRequest* request,
      iam::v1::GetPolicyResponse* response) override;
  grpc::ServerUnaryReactor* ApplyPolicy(
      grpc::CallbackServerContext* context,
      const iam::v1::ApplyPolicyRequest* request,
      iam::v1::ApplyPolicyResponse* response) override;
  grpc::ServerUnaryReactor* SyncSubject(
      grpc::CallbackServerContext* context,
      const iam::v1::SyncSubjectRequest* request,
      iam::v1::WriteResponse* response) override;
  // Every binding of one person in one commit and one audit record.
  grpc::ServerUnaryReactor* DeleteBindingsOf(
      grpc::CallbackServerContext* context,
      const iam::v1::DeleteBindingsOfRequest* request,
      iam::v1::DeleteBindingsOfResponse* response) override;

 private:
  // The caller, if authenticated and holding `permission`; the refusal is
  // audited.
  absl::StatusOr<std::string> Authorize(grpc::CallbackServerContext* context,
                                        absl::string_view permission,
                                        absl::string_view action,
                                        absl::string_view target);
  // Runs a write, audits it, fills `revision_out`.
  // Runs `write` (an engine write) with a commit that stores the change and
  // its audit record together, records the outcome if that commit did not,
  // and answers with the revision.
  absl::Status AuditedWrite(
      const audit::ChangeInfo& info,
      const std::function<absl::StatusOr<Revision>(const CommitFn&)>& write,
      iam::v1::WriteResponse* response);

  AuthzEngine* const engine_;
  audit::AuditLog* const audit_log_;
  audit::ChangeRecorder recorder_;
  EngineAuthorizer authorizer_;
  const CallerConfig caller_config_;
  // Runs the writes (each waits for a synced commit) off gRPC's callback
  // threads; decisions run inline. Last: destroyed first.
  ThreadPool pool_{8};
};

}  // namespace iam::authz

#endif  // IAM_SERVICES_AUTHZ_AUTHZ_SERVICE_H_
