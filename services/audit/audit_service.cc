#include "services/audit/audit_service.h"

#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"

namespace iam::audit {

AuditServiceImpl::AuditServiceImpl(AuditLog* log, Authorizer* authorizer,
                                   const CallerConfig& caller_config)
    : log_(log),
      authorizer_(authorizer),
      recorder_(log),
      caller_config_(caller_config) {}

grpc::ServerUnaryReactor* AuditServiceImpl::Query(
    grpc::CallbackServerContext* context,
    const iam::v1::QueryAuditRequest* request,
    iam::v1::QueryAuditResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    absl::StatusOr<std::string> caller =
        CallerFromContext(*context, caller_config_);
    if (!caller.ok()) {
      return recorder_.RecordRefusal("", "audit.query", "", caller.status());
    }
    absl::Status allowed = authorizer_->Require(*caller, kPermAuditRead);
    if (!allowed.ok()) {
      return recorder_.RecordRefusal(*caller, "audit.query", "", allowed);
    }
    // Recent async decision records become visible to the query.
    RETURN_IF_ERROR(log_->Flush());
    ASSIGN_OR_RETURN(*response, log_->Query(*request));
    iam::v1::AuditRecord record;
    record.set_caller(*caller);
    record.set_action("audit.query");
    record.set_target(request->person_id());
    record.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
    log_->AppendAsync(std::move(record));
    return absl::OkStatus();
  });
}

}  // namespace iam::audit
