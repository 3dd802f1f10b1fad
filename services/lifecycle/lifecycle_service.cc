#include "services/lifecycle/lifecycle_service.h"

#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"

namespace iam::lifecycle {

LifecycleServiceImpl::LifecycleServiceImpl(Authorizer* authorizer,
                                           audit::AuditLog* audit_log,
                                           const CallerConfig& caller_config)
    : authorizer_(authorizer),
      recorder_(audit_log),
      caller_config_(caller_config) {}

absl::StatusOr<Lifecycle*> LifecycleServiceImpl::Ready() const {
  Lifecycle* lifecycle = lifecycle_.load();
  if (lifecycle == nullptr) {
    return absl::UnavailableError(
        "the lifecycle service is starting (applying missed HR events); retry");
  }
  return lifecycle;
}

absl::StatusOr<std::string> LifecycleServiceImpl::Authorize(
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

template <typename Request, typename Method>
grpc::ServerUnaryReactor* LifecycleServiceImpl::Event(
    grpc::CallbackServerContext* context, const Request* request,
    iam::v1::HrEventResult* response, absl::string_view action, Method method) {
  std::string action_name(action);
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermLifecycleWrite, action_name,
                               request->event().event_id()));
    ASSIGN_OR_RETURN(Lifecycle * lifecycle, Ready());
    ASSIGN_OR_RETURN(*response, (lifecycle->*method)(*request, caller));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LifecycleServiceImpl::Hire(
    grpc::CallbackServerContext* context, const iam::v1::HireRequest* request,
    iam::v1::HrEventResult* response) {
  return Event(context, request, response, "lifecycle.hire", &Lifecycle::Hire);
}

grpc::ServerUnaryReactor* LifecycleServiceImpl::Move(
    grpc::CallbackServerContext* context, const iam::v1::MoveRequest* request,
    iam::v1::HrEventResult* response) {
  return Event(context, request, response, "lifecycle.move", &Lifecycle::Move);
}

grpc::ServerUnaryReactor* LifecycleServiceImpl::Leave(
    grpc::CallbackServerContext* context, const iam::v1::LeaveRequest* request,
    iam::v1::HrEventResult* response) {
  return Event(context, request, response, "lifecycle.leave", &Lifecycle::Leave);
}

grpc::ServerUnaryReactor* LifecycleServiceImpl::Suspend(
    grpc::CallbackServerContext* context, const iam::v1::SuspendRequest* request,
    iam::v1::HrEventResult* response) {
  return Event(context, request, response, "lifecycle.suspend", &Lifecycle::Suspend);
}

grpc::ServerUnaryReactor* LifecycleServiceImpl::Reinstate(
    grpc::CallbackServerContext* context, const iam::v1::ReinstateRequest* request,
    iam::v1::HrEventResult* response) {
  return Event(context, request, response, "lifecycle.reinstate",
               &Lifecycle::Reinstate);
}

grpc::ServerUnaryReactor* LifecycleServiceImpl::GetEvent(
    grpc::CallbackServerContext* context, const iam::v1::GetEventRequest* request,
    iam::v1::HrEventResult* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermLifecycleRead, "lifecycle.event.get",
                               request->event_id()));
    if (request->event_id().empty()) {
      return absl::InvalidArgumentError("event_id is required");
    }
    ASSIGN_OR_RETURN(Lifecycle * lifecycle, Ready());
    ASSIGN_OR_RETURN(*response, lifecycle->GetEvent(request->event_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LifecycleServiceImpl::GetPersonHistory(
    grpc::CallbackServerContext* context,
    const iam::v1::GetPersonHistoryRequest* request,
    iam::v1::GetPersonHistoryResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermLifecycleRead, "lifecycle.history.get",
                               request->person_id()));
    if (request->person_id().empty()) {
      return absl::InvalidArgumentError("person_id is required");
    }
    ASSIGN_OR_RETURN(Lifecycle * lifecycle, Ready());
    ASSIGN_OR_RETURN(*response, lifecycle->History(request->person_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LifecycleServiceImpl::RecordAttestation(
    grpc::CallbackServerContext* context,
    const iam::v1::RecordAttestationRequest* request,
    iam::v1::AttestationResult* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermLifecycleWrite, "lifecycle.attest",
                               request->person_id()));
    ASSIGN_OR_RETURN(Lifecycle * lifecycle, Ready());
    ASSIGN_OR_RETURN(*response, lifecycle->RecordAttestation(*request, caller));
    return absl::OkStatus();
  });
}

}  // namespace iam::lifecycle
