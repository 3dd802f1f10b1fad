// AuditServiceImpl: read access to the audit log for auditors (needs
// iam.audit:read at "/"). Reads are themselves audited. Thread-safe.
#ifndef IAM_SERVICES_AUDIT_AUDIT_SERVICE_H_
#define IAM_SERVICES_AUDIT_AUDIT_SERVICE_H_

#include "proto/iam/v1/audit.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/change_recorder.h"
#include "services/common/authorizer.h"
#include "services/common/caller.h"
#include "services/common/thread_pool.h"

namespace iam::audit {

inline constexpr char kPermAuditRead[] = "iam.audit:read";

class AuditServiceImpl final : public iam::v1::AuditService::CallbackService {
 public:
  // REQUIRES: every pointer outlives this object.
  AuditServiceImpl(AuditLog* log, Authorizer* authorizer,
                   const CallerConfig& caller_config);

  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* context,
                                  const iam::v1::QueryAuditRequest* request,
                                  iam::v1::QueryAuditResponse* response) override;

 private:
  AuditLog* const log_;
  Authorizer* const authorizer_;
  ChangeRecorder recorder_;
  const CallerConfig caller_config_;
  // Runs the handlers (authorization is an RPC). Last: destroyed first.
  ThreadPool pool_{2};
};

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_AUDIT_SERVICE_H_
