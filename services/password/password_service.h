// PasswordServiceImpl: the gRPC face of the PasswordManager. Thin: it
// authenticates and authorizes the caller, runs the flow, audits every
// outcome (never a password), and maps statuses.
//
// Threads: every RPC that hashes (Authenticate, ChangePassword,
// SetInitialPassword) runs on a BoundedPool of low-priority (SCHED_IDLE)
// workers, one fewer than the cores by default, with a bounded queue; when
// it is full the RPC fails at once with
// RESOURCE_EXHAUSTED, so a storm of logins queues neither without limit nor
// on gRPC's threads, where authz Check runs inline. The other writes run on
// a small ThreadPool; GetPasswordPolicy runs inline. Password fields of the
// requests are wiped once handled. Every login outcome is answered only
// after its audit record is synced.
//
// Thread-safe.
#ifndef IAM_SERVICES_PASSWORD_PASSWORD_SERVICE_H_
#define IAM_SERVICES_PASSWORD_PASSWORD_SERVICE_H_

#include <functional>
#include <string>

#include "proto/iam/v1/password.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/change_recorder.h"
#include "services/common/authorizer.h"
#include "services/common/caller.h"
#include "services/common/thread_pool.h"
#include "services/password/bounded_pool.h"
#include "services/password/password_manager.h"

namespace iam::password {

// Permissions the API requires, at scope "/".
inline constexpr char kPermPasswordsAuthenticate[] = "iam.passwords:authenticate";
inline constexpr char kPermPasswordsRead[] = "iam.passwords:read";
inline constexpr char kPermPasswordsWrite[] = "iam.passwords:write";

class PasswordServiceImpl final : public iam::v1::PasswordService::CallbackService {
 public:
  struct Options {
    // Hashing workers; 0: one fewer than the cores, at least one.
    int hash_threads = 0;
    // Hashing requests that may wait for a worker.
    int hash_queue = 64;
    // Added to the hashing workers' nice value.
    int hash_nice = 10;
    // Runs the hashing workers under SCHED_IDLE: a thread answering an
    // RPC that wakes up on their core preempts them at once.
    bool hash_idle_scheduling = true;
  };

  // REQUIRES: every pointer outlives this object.
  PasswordServiceImpl(PasswordManager* manager, Authorizer* authorizer,
                      audit::AuditLog* audit_log, const CallerConfig& caller_config,
                      Options options);

  grpc::ServerUnaryReactor* Authenticate(
      grpc::CallbackServerContext* context,
      const iam::v1::AuthenticateRequest* request,
      iam::v1::AuthenticateResponse* response) override;
  grpc::ServerUnaryReactor* ChangePassword(
      grpc::CallbackServerContext* context,
      const iam::v1::ChangePasswordRequest* request,
      iam::v1::ChangePasswordResponse* response) override;
  grpc::ServerUnaryReactor* SetInitialPassword(
      grpc::CallbackServerContext* context,
      const iam::v1::SetInitialPasswordRequest* request,
      iam::v1::SetInitialPasswordResponse* response) override;
  grpc::ServerUnaryReactor* Unlock(grpc::CallbackServerContext* context,
                                   const iam::v1::UnlockRequest* request,
                                   iam::v1::UnlockResponse* response) override;
  grpc::ServerUnaryReactor* RevokeCredentials(
      grpc::CallbackServerContext* context,
      const iam::v1::RevokeCredentialsRequest* request,
      iam::v1::RevokeCredentialsResponse* response) override;
  grpc::ServerUnaryReactor* GetPasswordPolicy(
      grpc::CallbackServerContext* context,
      const iam::v1::GetPasswordPolicyRequest* request,
      iam::v1::GetPasswordPolicyResponse* response) override;
  grpc::ServerUnaryReactor* SetPasswordPolicy(
      grpc::CallbackServerContext* context,
      const iam::v1::SetPasswordPolicyRequest* request,
      iam::v1::SetPasswordPolicyResponse* response) override;
  grpc::ServerUnaryReactor* CheckPassword(
      grpc::CallbackServerContext* context,
      const iam::v1::CheckPasswordRequest* request,
      iam::v1::CheckPasswordResponse* response) override;
  grpc::ServerUnaryReactor* GetPasswordStatus(
      grpc::CallbackServerContext* context,
      const iam::v1::GetPasswordStatusRequest* request,
      iam::v1::GetPasswordStatusResponse* response) override;

 private:
  absl::StatusOr<std::string> Authorize(grpc::CallbackServerContext* context,
                                        absl::string_view permission,
                                        absl::string_view action,
                                        absl::string_view target);
  // How a handler on the hashing pool answers: exactly once, on the worker
  // or later from another thread.
  using Answer = std::function<void(absl::Status)>;
  // Runs `fn(answer)` on the hashing pool; `fn` must run `wipe` before it
  // hands `answer` to another thread (once answered, the request may be
  // gone). When the pool is full, audits the refusal, runs `wipe` and
  // finishes with RESOURCE_EXHAUSTED.
  template <typename Fn, typename Wipe>
  grpc::ServerUnaryReactor* OnHashPoolThen(grpc::CallbackServerContext* context,
                                           absl::string_view action, Fn fn,
                                           Wipe wipe);
  // OnHashPoolThen for a handler that answers with what `fn` returns, after
  // `wipe`.
  template <typename Fn, typename Wipe>
  grpc::ServerUnaryReactor* OnHashPool(grpc::CallbackServerContext* context,
                                       absl::string_view action, Fn fn, Wipe wipe);
  // Audits a login-like outcome and then calls `done`: once the record is
  // synced for an outcome (UNAVAILABLE if it cannot be), at once for a
  // request refused before any password was tried (its record is
  // buffered). `done` may run on the audit log's completion thread.
  void AuditAttemptThen(absl::string_view caller, absl::string_view action,
                        absl::string_view person_id, absl::string_view source,
                        const absl::StatusOr<PasswordManager::AuthOutcome>& outcome,
                        Answer done);
  // AuditAttemptThen, waiting for `done`.
  absl::Status AuditAttempt(absl::string_view caller, absl::string_view action,
                    absl::string_view person_id, absl::string_view source,
                    const absl::StatusOr<PasswordManager::AuthOutcome>& outcome);

  PasswordManager* const manager_;
  Authorizer* const authorizer_;
  audit::AuditLog* const audit_log_;
  audit::ChangeRecorder recorder_;
  const CallerConfig caller_config_;
  // Admin writes and reads that call other services. Destroyed before the
  // members above.
  ThreadPool pool_{4};
  // Hashing. Last: destroyed (drained) first.
  BoundedPool hash_pool_;
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_PASSWORD_SERVICE_H_
