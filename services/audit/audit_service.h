// AuditServiceImpl: the audit log's API for auditors, security officers and
// SIEMs: Query, Tail (a stream that follows the log from a sequence and
// resumes without gaps or duplicates), Verify, Export, GetKey (iam.audit:read
// at "/"), and ErasePersonData (crypto-shredding; iam.people:write at "/").
// Reads are themselves audited. Thread-safe.
#ifndef IAM_SERVICES_AUDIT_AUDIT_SERVICE_H_
#define IAM_SERVICES_AUDIT_AUDIT_SERVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/change_recorder.h"
#include "services/common/authorizer.h"
#include "services/common/caller.h"
#include "services/common/thread_pool.h"

namespace iam::audit {

inline constexpr char kPermAuditRead[] = "iam.audit:read";
inline constexpr char kPermPeopleWrite[] = "iam.people:write";

class AuditServiceImpl final : public iam::v1::AuditService::CallbackService {
 public:
  // REQUIRES: every pointer outlives this object, and the server is shut
  // down (every Tail stream finished) before it is destroyed.
  AuditServiceImpl(StoreAuditLog* log, Authorizer* authorizer,
                   const CallerConfig& caller_config);

  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* context,
                                  const iam::v1::QueryAuditRequest* request,
                                  iam::v1::QueryAuditResponse* response) override;
  grpc::ServerWriteReactor<iam::v1::TailAuditResponse>* Tail(
      grpc::CallbackServerContext* context,
      const iam::v1::TailAuditRequest* request) override;
  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const iam::v1::VerifyAuditRequest* request,
                                   iam::v1::VerifyAuditResponse* response) override;
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                   const iam::v1::ExportAuditRequest* request,
                                   iam::v1::ExportAuditResponse* response) override;
  grpc::ServerUnaryReactor* GetKey(grpc::CallbackServerContext* context,
                                   const iam::v1::GetAuditKeyRequest* request,
                                   iam::v1::GetAuditKeyResponse* response) override;
  grpc::ServerUnaryReactor* ErasePersonData(
      grpc::CallbackServerContext* context,
      const iam::v1::ErasePersonDataRequest* request,
      iam::v1::ErasePersonDataResponse* response) override;

 private:
  class TailReactor;

  // The authenticated caller if it holds `permission`; a refusal (recorded)
  // otherwise.
  absl::StatusOr<std::string> Authorize(grpc::CallbackServerContext* context,
                                        absl::string_view permission,
                                        absl::string_view action,
                                        absl::string_view target);
  // Records a read (buffered).
  void RecordRead(const std::string& caller, absl::string_view action,
                  absl::string_view target, absl::string_view detail);

  StoreAuditLog* const log_;
  Authorizer* const authorizer_;
  ChangeRecorder recorder_;
  const CallerConfig caller_config_;
  // Runs the handlers (authorization is an RPC) and Tail's reads. Last:
  // destroyed first.
  ThreadPool pool_{4};
};

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_AUDIT_SERVICE_H_
