// LifecycleServiceImpl: the gRPC face of Lifecycle. Thin: authenticates the
// caller, authorizes (iam.lifecycle:write for events and attestations,
// iam.lifecycle:read for reads), runs the domain call on its own pool (every
// call writes synced or calls other services) and maps statuses. Refusals
// are audited. Thread-safe.
#ifndef IAM_SERVICES_LIFECYCLE_LIFECYCLE_SERVICE_H_
#define IAM_SERVICES_LIFECYCLE_LIFECYCLE_SERVICE_H_

#include <atomic>
#include <string>

#include "proto/iam/v1/lifecycle.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/change_recorder.h"
#include "services/common/authorizer.h"
#include "services/common/caller.h"
#include "services/common/thread_pool.h"
#include "services/lifecycle/lifecycle.h"

namespace iam::lifecycle {

inline constexpr char kPermLifecycleRead[] = "iam.lifecycle:read";
inline constexpr char kPermLifecycleWrite[] = "iam.lifecycle:write";

class LifecycleServiceImpl final
    : public iam::v1::LifecycleService::CallbackService {
 public:
  // REQUIRES: every pointer outlives this object. The Lifecycle is set
  // later with set_lifecycle (its ports need the running server's in-process
  // channel, and it first catches up on missed events); until then every
  // call is UNAVAILABLE.
  LifecycleServiceImpl(Authorizer* authorizer, audit::AuditLog* audit_log,
                       const CallerConfig& caller_config);

  // REQUIRES: lifecycle outlives this object.
  void set_lifecycle(Lifecycle* lifecycle) { lifecycle_.store(lifecycle); }

  grpc::ServerUnaryReactor* Hire(grpc::CallbackServerContext* context,
                                 const iam::v1::HireRequest* request,
                                 iam::v1::HrEventResult* response) override;
  grpc::ServerUnaryReactor* Move(grpc::CallbackServerContext* context,
                                 const iam::v1::MoveRequest* request,
                                 iam::v1::HrEventResult* response) override;
  grpc::ServerUnaryReactor* Leave(grpc::CallbackServerContext* context,
                                  const iam::v1::LeaveRequest* request,
                                  iam::v1::HrEventResult* response) override;
  grpc::ServerUnaryReactor* Suspend(grpc::CallbackServerContext* context,
                                    const iam::v1::SuspendRequest* request,
                                    iam::v1::HrEventResult* response) override;
  grpc::ServerUnaryReactor* Reinstate(grpc::CallbackServerContext* context,
                                      const iam::v1::ReinstateRequest* request,
                                      iam::v1::HrEventResult* response) override;
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const iam::v1::GetEventRequest* request,
                                     iam::v1::HrEventResult* response) override;
  grpc::ServerUnaryReactor* GetPersonHistory(
      grpc::CallbackServerContext* context,
      const iam::v1::GetPersonHistoryRequest* request,
      iam::v1::GetPersonHistoryResponse* response) override;
  grpc::ServerUnaryReactor* RecordAttestation(
      grpc::CallbackServerContext* context,
      const iam::v1::RecordAttestationRequest* request,
      iam::v1::AttestationResult* response) override;

 private:
  // Authorizes iam.lifecycle:write and runs `method` on the pool.
  template <typename Request, typename Method>
  grpc::ServerUnaryReactor* Event(grpc::CallbackServerContext* context,
                                  const Request* request,
                                  iam::v1::HrEventResult* response,
                                  absl::string_view action, Method method);
  absl::StatusOr<std::string> Authorize(grpc::CallbackServerContext* context,
                                        absl::string_view permission,
                                        absl::string_view action,
                                        absl::string_view target);

  // The lifecycle, or UNAVAILABLE while the server starts.
  absl::StatusOr<Lifecycle*> Ready() const;

  std::atomic<Lifecycle*> lifecycle_{nullptr};
  Authorizer* const authorizer_;
  audit::ChangeRecorder recorder_;
  const CallerConfig caller_config_;
  // Runs every handler (they block on synced writes and on other services).
  // Last: destroyed first.
  ThreadPool pool_{16};
};

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_LIFECYCLE_SERVICE_H_
