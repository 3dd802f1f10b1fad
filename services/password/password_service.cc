#include "services/password/password_service.h"

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"
#include "services/password/secret.h"

namespace iam::password {
namespace {

using iam::v1::AuthResult;

// What the person is told: the same words for every cause of a failure.
std::string MessageFor(const PasswordManager::AuthOutcome& o) {
  switch (o.result) {
    case iam::v1::AUTH_RESULT_OK:
      return "logged in";
    case iam::v1::AUTH_RESULT_BAD_CREDENTIALS:
      return "wrong person or password";
    case iam::v1::AUTH_RESULT_LOCKED:
      return absl::StrCat(
          "too many failed attempts: locked until ",
          absl::FormatTime(absl::RFC3339_sec, o.locked_until, absl::UTCTimeZone()),
          "; or ask an administrator to unlock");
    case iam::v1::AUTH_RESULT_MUST_CHANGE:
      return "the password must be changed before logging in";
    case iam::v1::AUTH_RESULT_NOT_ACTIVE:
      return "this account is not active; contact HR or the IT help desk";
    default:
      return "";
  }
}

int64_t UnixOrZero(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(t);
}

// The password fields are wiped once handled. The request objects are
// gRPC's, allocated mutable; only our handler reads them.
template <typename Request>
std::string* Mutable(const Request* r, std::string* (Request::*field)()) {
  return (const_cast<Request*>(r)->*field)();
}

BoundedPool::Options HashPoolOptions(const PasswordServiceImpl::Options& options) {
  BoundedPool::Options pool;
  pool.threads = options.hash_threads;
  pool.queue_capacity = options.hash_queue;
  pool.nice = options.hash_nice;
  pool.idle_scheduling = options.hash_idle_scheduling;
  pool.name = "password hashing";
  pool.thread_name = "iamd-pw-hash";
  return pool;
}

}  // namespace

PasswordServiceImpl::PasswordServiceImpl(PasswordManager* manager,
                                         Authorizer* authorizer,
                                         audit::AuditLog* audit_log,
                                         const CallerConfig& caller_config,
                                         Options options)
    : manager_(manager),
      authorizer_(authorizer),
      audit_log_(audit_log),
      recorder_(audit_log),
      caller_config_(caller_config),
      hash_pool_(HashPoolOptions(options)) {}

absl::StatusOr<std::string> PasswordServiceImpl::Authorize(
    grpc::CallbackServerContext* context, absl::string_view permission,
    absl::string_view action, absl::string_view target) {
  absl::StatusOr<std::string> caller = CallerFromContext(*context, caller_config_);
  if (!caller.ok()) {
    return recorder_.RecordRefusal("", action, target, caller.status());
  }
  absl::Status allowed = authorizer_->Require(*caller, permission);
  if (!allowed.ok()) {
    return recorder_.RecordRefusal(*caller, action, target, allowed);
  }
  return caller;
}

template <typename Fn, typename Wipe>
grpc::ServerUnaryReactor* PasswordServiceImpl::OnHashPoolThen(
    grpc::CallbackServerContext* context, absl::string_view action, Fn fn,
    Wipe wipe) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status queued = hash_pool_.TrySchedule([reactor, fn]() mutable {
    fn([reactor](absl::Status status) { reactor->Finish(ToGrpcStatus(status)); });
  });
  if (!queued.ok()) {
    wipe();
    absl::StatusOr<std::string> caller = CallerFromContext(*context, caller_config_);
    // The answer is the refusal whether or not its record could be written.
    recorder_.RecordRefusal(caller.ok() ? *caller : "", action, "", queued)
        .IgnoreError();
    reactor->Finish(ToGrpcStatus(queued));
  }
  return reactor;
}

template <typename Fn, typename Wipe>
grpc::ServerUnaryReactor* PasswordServiceImpl::OnHashPool(
    grpc::CallbackServerContext* context, absl::string_view action, Fn fn,
    Wipe wipe) {
  return OnHashPoolThen(
      context, action,
      [fn, wipe](const Answer& answer) mutable {
        absl::Status status = fn();
        wipe();
        answer(status);
      },
      wipe);
}

void PasswordServiceImpl::AuditAttemptThen(
    absl::string_view caller, absl::string_view action, absl::string_view person_id,
    absl::string_view source,
    const absl::StatusOr<PasswordManager::AuthOutcome>& outcome, Answer done) {
  iam::v1::AuditRecord record;
  record.set_caller(std::string(caller));
  record.set_action(std::string(action));
  record.set_target(std::string(source));
  if (!outcome.ok()) {
    // A malformed id may be a password typed into the wrong field: it is
    // left out of the record.
    if (outcome.status().code() != absl::StatusCode::kInvalidArgument) {
      record.set_person_id(std::string(person_id));
    }
    record.set_outcome(iam::v1::AUDIT_OUTCOME_FAILED);
    record.set_reason(absl::StrCat(absl::StatusCodeToString(outcome.status().code()),
                                   ": ", outcome.status().message()));
    if (outcome.status().code() == absl::StatusCode::kDataLoss) {
      std::cerr << "password: " << outcome.status().message() << "\n";
    }
    // Refused before any password was tried: buffered, so that a flood of
    // bad requests does not turn into a flood of fsyncs.
    audit_log_->AppendAsync(std::move(record));
    done(absl::OkStatus());
    return;
  } else {
    record.set_person_id(std::string(person_id));
    record.set_outcome(outcome->result == iam::v1::AUTH_RESULT_OK
                           ? iam::v1::AUDIT_OUTCOME_SUCCESS
                           : iam::v1::AUDIT_OUTCOME_DENIED);
    std::string reason = iam::v1::AuthResult_Name(outcome->result);
    if (!outcome->detail.empty()) absl::StrAppend(&reason, ": ", outcome->detail);
    if (outcome->result == iam::v1::AUTH_RESULT_LOCKED) {
      absl::StrAppend(&reason, " (until ",
                      absl::FormatTime(absl::RFC3339_sec, outcome->locked_until,
                                       absl::UTCTimeZone()),
                      ")");
    }
    record.set_reason(std::move(reason));
    record.set_revision(outcome->revision);
  }
  // Every login outcome is answered only once its record is durable.
  audit_log_->AppendThen(
      std::move(record), [done = std::move(done)](absl::StatusOr<int64_t> appended) {
        if (!appended.ok()) {
          done(absl::UnavailableError(absl::StrCat(
              "the login could not be audited, so it is refused: ",
              appended.status().message())));
          return;
        }
        done(absl::OkStatus());
      });
}

absl::Status PasswordServiceImpl::AuditAttempt(
    absl::string_view caller, absl::string_view action, absl::string_view person_id,
    absl::string_view source,
    const absl::StatusOr<PasswordManager::AuthOutcome>& outcome) {
  absl::Notification audited;
  absl::Status status;
  AuditAttemptThen(caller, action, person_id, source, outcome,
                   [&](absl::Status s) {
                     status = std::move(s);
                     audited.Notify();
                   });
  audited.WaitForNotification();
  return status;
}

grpc::ServerUnaryReactor* PasswordServiceImpl::Authenticate(
    grpc::CallbackServerContext* context, const iam::v1::AuthenticateRequest* request,
    iam::v1::AuthenticateResponse* response) {
  auto wipe = [=] {
    WipeString(Mutable(request, &iam::v1::AuthenticateRequest::mutable_password));
  };
  // The worker answers from the audit log's completion once the login's
  // record is synced: it goes on to the next hash meanwhile.
  return OnHashPoolThen(
      context, "password.authenticate",
      [=](Answer answer) {
        absl::StatusOr<std::string> caller =
            Authorize(context, kPermPasswordsAuthenticate, "password.authenticate",
                      request->source());
        if (!caller.ok()) {
          wipe();
          answer(caller.status());
          return;
        }
        absl::StatusOr<PasswordManager::AuthOutcome> outcome = manager_->Authenticate(
            request->person_id(), request->password(), request->source());
        wipe();
        absl::Status answered = outcome.status();
        if (outcome.ok()) {
          response->set_result(outcome->result);
          response->set_locked_until_unix(UnixOrZero(outcome->locked_until));
          response->set_message(MessageFor(*outcome));
        }
        AuditAttemptThen(*caller, "password.authenticate", request->person_id(),
                         request->source(), outcome,
                         [answer = std::move(answer), answered,
                          response](absl::Status audited) {
                           if (!audited.ok()) {
                             response->Clear();
                             answer(std::move(audited));
                             return;
                           }
                           answer(answered);
                         });
      },
      wipe);
}

grpc::ServerUnaryReactor* PasswordServiceImpl::ChangePassword(
    grpc::CallbackServerContext* context, const iam::v1::ChangePasswordRequest* request,
    iam::v1::ChangePasswordResponse* response) {
  return OnHashPool(
      context, "password.change",
      [=]() -> absl::Status {
        ASSIGN_OR_RETURN(std::string caller,
                         Authorize(context, kPermPasswordsAuthenticate,
                                   "password.change", request->source()));
        // A committed change is stored with its audit record (one synced
        // write); every other outcome is audited as an attempt.
        const audit::ChangeInfo info{caller, "password.change", request->source(),
                                     request->person_id(), "changed by the person"};
        bool committed = false;
        absl::StatusOr<PasswordManager::AuthOutcome> outcome =
            manager_->ChangePassword(request->person_id(), request->old_password(),
                                     request->new_password(), request->source(),
                                     recorder_.Committing(info, &committed));
        if (!committed) {
          RETURN_IF_ERROR(AuditAttempt(caller, "password.change",
                                       request->person_id(), request->source(),
                                       outcome));
        }
        if (!outcome.ok()) return outcome.status();
        response->set_result(outcome->result);
        response->set_locked_until_unix(UnixOrZero(outcome->locked_until));
        response->set_message(outcome->revision > 0 ? "password changed"
                                                    : MessageFor(*outcome));
        response->set_revision(outcome->revision);
        return absl::OkStatus();
      },
      [=] {
        WipeString(Mutable(request, &iam::v1::ChangePasswordRequest::mutable_old_password));
        WipeString(Mutable(request, &iam::v1::ChangePasswordRequest::mutable_new_password));
      });
}

grpc::ServerUnaryReactor* PasswordServiceImpl::SetInitialPassword(
    grpc::CallbackServerContext* context,
    const iam::v1::SetInitialPasswordRequest* request,
    iam::v1::SetInitialPasswordResponse* response) {
  return OnHashPool(
      context, "password.set",
      [=]() -> absl::Status {
        const std::string& id = request->person_id();
        ASSIGN_OR_RETURN(std::string caller,
                         Authorize(context, kPermPasswordsWrite, "password.set", id));
        const audit::ChangeInfo info{caller, "password.set", id, id,
                                     request->reason()};
        bool committed = false;
        absl::StatusOr<Revision> set = manager_->SetInitialPassword(
            id, request->password(), caller, recorder_.Committing(info, &committed));
        RETURN_IF_ERROR(
            recorder_.Finish(info, set.status(), set.ok() ? *set : 0, committed));
        response->set_revision(*set);
        return absl::OkStatus();
      },
      [=] {
        WipeString(Mutable(request, &iam::v1::SetInitialPasswordRequest::mutable_password));
      });
}

grpc::ServerUnaryReactor* PasswordServiceImpl::Unlock(
    grpc::CallbackServerContext* context, const iam::v1::UnlockRequest* request,
    iam::v1::UnlockResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& id = request->person_id();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPasswordsWrite, "password.unlock", id));
    const audit::ChangeInfo info{caller, "password.unlock", id, id,
                                 request->reason()};
    bool committed = false;
    auto unlocked = manager_->Unlock(id, recorder_.Committing(info, &committed));
    RETURN_IF_ERROR(recorder_.Finish(info, unlocked.status(),
                                     unlocked.ok() ? unlocked->second : 0,
                                     committed));
    response->set_was_locked(unlocked->first);
    response->set_revision(unlocked->second);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PasswordServiceImpl::RevokeCredentials(
    grpc::CallbackServerContext* context,
    const iam::v1::RevokeCredentialsRequest* request,
    iam::v1::RevokeCredentialsResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    const std::string& id = request->person_id();
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPasswordsWrite, "password.revoke", id));
    // A password that is there is deleted together with its record.
    bool committed = false;
    const audit::ChangeInfo info{caller, "password.revoke", id, id,
                                 request->reason()};
    auto revoked = manager_->Revoke(id, recorder_.Committing(info, &committed));
    std::string reason = request->reason();
    if (revoked.ok() && !revoked->first) reason += " (had no password)";
    RETURN_IF_ERROR(recorder_.Finish({caller, "password.revoke", id, id, reason},
                                     revoked.status(),
                                     revoked.ok() ? revoked->second : 0,
                                     committed));
    response->set_revoked(revoked->first);
    response->set_revision(revoked->second);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PasswordServiceImpl::GetPasswordPolicy(
    grpc::CallbackServerContext* context, const iam::v1::GetPasswordPolicyRequest*,
    iam::v1::GetPasswordPolicyResponse* response) {
  return FinishUnary(context, [&]() -> absl::Status {
    // The policy is no secret: any authenticated caller may read it.
    ASSIGN_OR_RETURN(std::string caller, CallerFromContext(*context, caller_config_));
    PasswordManager::PolicyView view = manager_->policy();
    *response->mutable_configured() = std::move(view.configured);
    *response->mutable_effective() = std::move(view.effective);
    response->set_defaults_only(view.defaults_only);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PasswordServiceImpl::SetPasswordPolicy(
    grpc::CallbackServerContext* context,
    const iam::v1::SetPasswordPolicyRequest* request,
    iam::v1::SetPasswordPolicyResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPasswordsWrite, "password.policy.set", ""));
    const audit::ChangeInfo info{caller, "password.policy.set", "password_policy",
                                 "", request->reason()};
    bool committed = false;
    absl::StatusOr<Revision> set =
        manager_->SetPolicy(request->policy(), recorder_.Committing(info, &committed));
    RETURN_IF_ERROR(
        recorder_.Finish(info, set.status(), set.ok() ? *set : 0, committed));
    response->set_revision(*set);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PasswordServiceImpl::CheckPassword(
    grpc::CallbackServerContext* context, const iam::v1::CheckPasswordRequest* request,
    iam::v1::CheckPasswordResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    absl::Status status = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(std::string caller, CallerFromContext(*context, caller_config_));
      if (!request->person_id().empty() && request->person_id() != caller) {
        ASSIGN_OR_RETURN(caller, Authorize(context, kPermPasswordsRead,
                                           "password.check", request->person_id()));
      }
      ASSIGN_OR_RETURN(PasswordManager::CandidateReport report,
                       manager_->CheckCandidate(request->person_id(),
                                                request->password()));
      response->set_acceptable(report.problems.empty());
      for (auto& p : report.problems) response->add_problems(std::move(p));
      response->set_length(report.length);
      response->set_strength_bits(report.strength_bits);
      response->set_strength(PasswordPolicyChecker::StrengthLabel(report.strength_bits));
      return absl::OkStatus();
    }();
    WipeString(Mutable(request, &iam::v1::CheckPasswordRequest::mutable_password));
    return status;
  });
}

grpc::ServerUnaryReactor* PasswordServiceImpl::GetPasswordStatus(
    grpc::CallbackServerContext* context,
    const iam::v1::GetPasswordStatusRequest* request,
    iam::v1::GetPasswordStatusResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPasswordsRead, "password.status",
                               request->person_id()));
    ASSIGN_OR_RETURN(*response, manager_->Status(request->person_id()));
    return absl::OkStatus();
  });
}

}  // namespace iam::password
