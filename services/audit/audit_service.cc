#include "services/audit/audit_service.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"

namespace iam::audit {
namespace {

// Records per Tail message.
constexpr int kTailBatch = 200;
// A Tail stream whose filter matched nothing for this long still gets an
// (empty) message, so the client's resume point moves on.
constexpr absl::Duration kTailHeartbeat = absl::Seconds(5);

}  // namespace

// One Tail stream. Alternates between reading (a task on the pool), writing
// (gRPC), and waiting for new records (a NotifyWhenWritten listener), with
// exactly one of them pending at any time, so that Finish is called once and
// nothing runs after OnDone.
class AuditServiceImpl::TailReactor final
    : public grpc::ServerWriteReactor<iam::v1::TailAuditResponse> {
 public:
  TailReactor(AuditServiceImpl* service, grpc::CallbackServerContext* context,
              const iam::v1::TailAuditRequest* request)
      : service_(service), context_(context), request_(request) {
    service_->pool_.Schedule([this] { Step(); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    service_->pool_.Schedule([this] { Step(); });
  }

  void OnCancel() override {
    uint64_t listener = 0;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      if (!waiting_) return;  // the pending read or write ends the stream
      listener = listener_;
    }
    if (service_->log_->CancelNotify(listener)) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "tail cancelled"));
    }
    // Otherwise the listener fired and its Step sees cancelled_.
  }

  void OnDone() override { delete this; }

 private:
  void End(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(status);
  }

  void Step() {
    bool cancelled;
    {
      absl::MutexLock lock(&mu_);
      waiting_ = false;
      cancelled = cancelled_;
    }
    if (cancelled) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "tail cancelled"));
      return;
    }
    if (caller_.empty()) {
      absl::StatusOr<std::string> caller = service_->Authorize(
          context_, kPermAuditRead, "audit.tail", request_->person_id());
      if (!caller.ok()) {
        End(ToGrpcStatus(caller.status()));
        return;
      }
      if (request_->from_sequence() < 0) {
        End(ToGrpcStatus(absl::InvalidArgumentError(
            "from_sequence must be >= 0 (0: from the next record written)")));
        return;
      }
      caller_ = *caller;
      next_ = request_->from_sequence() == 0
                  ? service_->log_->WrittenSequence() + 1
                  : request_->from_sequence();
      service_->RecordRead(caller_, "audit.tail", request_->person_id(),
                           absl::StrCat("from sequence ", next_));
      last_sent_ = absl::Now();
    }
    absl::StatusOr<iam::v1::TailAuditResponse> read =
        service_->log_->ReadFrom(*request_, next_, kTailBatch);
    if (!read.ok()) {
      End(ToGrpcStatus(read.status()));
      return;
    }
    const bool moved = read->next_sequence() != next_;
    next_ = read->next_sequence();
    if (read->records_size() > 0 ||
        (moved && absl::Now() - last_sent_ >= kTailHeartbeat)) {
      response_ = std::move(*read);
      last_sent_ = absl::Now();
      StartWrite(&response_);
      return;
    }
    if (moved) {  // skipped non-matching records; read on
      service_->pool_.Schedule([this] { Step(); });
      return;
    }
    // Caught up: wait for the record at next_. NotifyWhenWritten may run the
    // callback inline (the record arrived meanwhile); it only schedules, so
    // holding mu_ is safe.
    {
      absl::MutexLock lock(&mu_);
      cancelled = cancelled_;
      if (!cancelled) {
        waiting_ = true;
        listener_ = service_->log_->NotifyWhenWritten(
            next_, [this] { service_->pool_.Schedule([this] { Step(); }); });
      }
    }
    if (cancelled) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "tail cancelled"));
    }
  }

  AuditServiceImpl* const service_;
  grpc::CallbackServerContext* const context_;
  const iam::v1::TailAuditRequest* const request_;
  std::string caller_;
  int64_t next_ = 0;
  absl::Time last_sent_;
  iam::v1::TailAuditResponse response_;

  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool waiting_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t listener_ ABSL_GUARDED_BY(mu_) = 0;
};

AuditServiceImpl::AuditServiceImpl(StoreAuditLog* log, Authorizer* authorizer,
                                   const CallerConfig& caller_config)
    : log_(log),
      authorizer_(authorizer),
      recorder_(log),
      caller_config_(caller_config) {}

absl::StatusOr<std::string> AuditServiceImpl::Authorize(
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

void AuditServiceImpl::RecordRead(const std::string& caller,
                                  absl::string_view action,
                                  absl::string_view target,
                                  absl::string_view detail) {
  iam::v1::AuditRecord record;
  record.set_caller(caller);
  record.set_action(std::string(action));
  record.set_target(std::string(target));
  record.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
  record.set_reason(std::string(detail));
  log_->AppendAsync(std::move(record));
}

grpc::ServerUnaryReactor* AuditServiceImpl::Query(
    grpc::CallbackServerContext* context,
    const iam::v1::QueryAuditRequest* request,
    iam::v1::QueryAuditResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAuditRead, "audit.query",
                               request->person_id()));
    // Recent buffered decision records become visible to the query.
    RETURN_IF_ERROR(log_->Flush());
    ASSIGN_OR_RETURN(*response, log_->Query(*request));
    RecordRead(caller, "audit.query", request->person_id(), "");
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<iam::v1::TailAuditResponse>* AuditServiceImpl::Tail(
    grpc::CallbackServerContext* context,
    const iam::v1::TailAuditRequest* request) {
  return new TailReactor(this, context, request);
}

grpc::ServerUnaryReactor* AuditServiceImpl::Verify(
    grpc::CallbackServerContext* context, const iam::v1::VerifyAuditRequest*,
    iam::v1::VerifyAuditResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAuditRead, "audit.verify", ""));
    RETURN_IF_ERROR(log_->Flush());
    ASSIGN_OR_RETURN(*response, log_->Verify());
    RecordRead(caller, "audit.verify", "",
               response->ok() ? "ok" : response->problem());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuditServiceImpl::Export(
    grpc::CallbackServerContext* context,
    const iam::v1::ExportAuditRequest* request,
    iam::v1::ExportAuditResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAuditRead, "audit.export", ""));
    RETURN_IF_ERROR(log_->Flush());
    ASSIGN_OR_RETURN(*response, log_->Export(*request));
    RecordRead(caller, "audit.export", "",
               absl::StrCat("from ", request->from_sequence(), " to ",
                            request->to_sequence()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuditServiceImpl::GetKey(
    grpc::CallbackServerContext* context, const iam::v1::GetAuditKeyRequest*,
    iam::v1::GetAuditKeyResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAuditRead, "audit.get_key", ""));
    response->set_public_key_pem(log_->public_key().pem());
    response->set_fingerprint_hex(
        absl::BytesToHexString(log_->public_key().fingerprint()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuditServiceImpl::ErasePersonData(
    grpc::CallbackServerContext* context,
    const iam::v1::ErasePersonDataRequest* request,
    iam::v1::ErasePersonDataResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermPeopleWrite, "audit.person.erase",
                               request->person_id()));
    ASSIGN_OR_RETURN(*response,
                     log_->ErasePersonData(caller, request->person_id(),
                                           request->reason()));
    return absl::OkStatus();
  });
}

}  // namespace iam::audit
