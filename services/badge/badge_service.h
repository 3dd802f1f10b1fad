// BadgeServiceImpl: the gRPC face of the badge service. Thin: authenticates
// and authorizes the caller (admin RPCs at scope "/" through an Authorizer),
// validates, calls the domain objects (BadgeRegistry, Admitter,
// DoorListPublisher), audits, and maps statuses.
//
// Every Admit decision is appended to the audit log durably before the door
// gets its answer (AppendThen: the answer is sent from the record's
// completion, no thread waits for the sync); every badge change is audited
// as a change. Handlers that block (synced writes, calls to other services)
// run on the service's own thread pool.
// Thread-safe.
#ifndef IAM_SERVICES_BADGE_BADGE_SERVICE_H_
#define IAM_SERVICES_BADGE_BADGE_SERVICE_H_

#include <atomic>
#include <functional>
#include <string>

#include "proto/iam/v1/badge.grpc.pb.h"
#include "services/audit/audit_log.h"
#include "services/audit/change_recorder.h"
#include "services/badge/admission.h"
#include "services/badge/area_registry.h"
#include "services/badge/badge_registry.h"
#include "services/badge/door_list.h"
#include "services/badge/grant_source.h"
#include "services/common/authorizer.h"
#include "services/common/caller.h"
#include "services/common/clock.h"
#include "services/common/store.h"
#include "services/common/thread_pool.h"

namespace iam::badge {

inline constexpr char kPermBadgesRead[] = "iam.badges:read";
inline constexpr char kPermBadgesWrite[] = "iam.badges:write";
inline constexpr char kPermAreasRead[] = "iam.areas:read";
inline constexpr char kPermDoorsAdmit[] = "iam.doors:admit";

// The audit action of admission decisions; their target is the area id.
inline constexpr char kAdmitAction[] = "badge.admit";

class BadgeServiceImpl final : public iam::v1::BadgeService::CallbackService {
 public:
  struct Deps {
    AreaRegistry* areas;
    BadgeRegistry* badges;
    Admitter* admitter;
    DoorListPublisher* lists;
    Authorizer* authorizer;
    audit::AuditLog* audit_log;
    Store* store;  // for the revision decisions are made at
    const Clock* clock;
  };
  // REQUIRES: every pointer in `deps` outlives this object.
  BadgeServiceImpl(const Deps& deps, const CallerConfig& caller_config);

  // Sets where people's status and grants come from, for this service, the
  // Admitter and the DoorListPublisher. Until then admissions deny, lists
  // and issues fail with UNAVAILABLE. REQUIRES: outlives this object.
  void set_grant_source(GrantSource* source);

  grpc::ServerUnaryReactor* Admit(grpc::CallbackServerContext* context,
                                  const iam::v1::AdmitRequest* request,
                                  iam::v1::AdmitResponse* response) override;
  grpc::ServerUnaryReactor* GetDoorList(
      grpc::CallbackServerContext* context,
      const iam::v1::GetDoorListRequest* request,
      iam::v1::SignedDoorList* response) override;
  grpc::ServerUnaryReactor* GetDoorListDelta(
      grpc::CallbackServerContext* context,
      const iam::v1::GetDoorListDeltaRequest* request,
      iam::v1::SignedDoorList* response) override;
  grpc::ServerUnaryReactor* IssueBadge(
      grpc::CallbackServerContext* context,
      const iam::v1::IssueBadgeRequest* request,
      iam::v1::BadgeResponse* response) override;
  grpc::ServerUnaryReactor* GetBadge(grpc::CallbackServerContext* context,
                                     const iam::v1::GetBadgeRequest* request,
                                     iam::v1::BadgeResponse* response) override;
  grpc::ServerUnaryReactor* ListBadges(
      grpc::CallbackServerContext* context,
      const iam::v1::ListBadgesRequest* request,
      iam::v1::ListBadgesResponse* response) override;
  grpc::ServerUnaryReactor* ReportBadgeLost(
      grpc::CallbackServerContext* context,
      const iam::v1::BadgeChangeRequest* request,
      iam::v1::BadgeResponse* response) override;
  grpc::ServerUnaryReactor* RevokeBadge(
      grpc::CallbackServerContext* context,
      const iam::v1::BadgeChangeRequest* request,
      iam::v1::BadgeResponse* response) override;
  grpc::ServerUnaryReactor* ResumeBadge(
      grpc::CallbackServerContext* context,
      const iam::v1::BadgeChangeRequest* request,
      iam::v1::BadgeResponse* response) override;
  grpc::ServerUnaryReactor* SuspendBadgesOf(
      grpc::CallbackServerContext* context,
      const iam::v1::PersonBadgesRequest* request,
      iam::v1::PersonBadgesResponse* response) override;
  grpc::ServerUnaryReactor* RevokeBadgesOf(
      grpc::CallbackServerContext* context,
      const iam::v1::PersonBadgesRequest* request,
      iam::v1::PersonBadgesResponse* response) override;
  grpc::ServerUnaryReactor* ListAreas(
      grpc::CallbackServerContext* context,
      const iam::v1::ListAreasRequest* request,
      iam::v1::ListAreasResponse* response) override;
  grpc::ServerUnaryReactor* WhoCanEnter(
      grpc::CallbackServerContext* context,
      const iam::v1::WhoCanEnterRequest* request,
      iam::v1::WhoCanEnterResponse* response) override;
  grpc::ServerUnaryReactor* AreaLog(grpc::CallbackServerContext* context,
                                    const iam::v1::AreaLogRequest* request,
                                    iam::v1::AreaLogResponse* response) override;

 private:
  absl::StatusOr<std::string> Authorize(grpc::CallbackServerContext* context,
                                        absl::string_view permission,
                                        absl::string_view action,
                                        absl::string_view target);
  // Runs `change` (a state change of one badge) with a commit that stores
  // it with its audit record, and answers with the badge.
  absl::Status AuditedBadgeChange(
      absl::string_view caller, absl::string_view action, absl::string_view badge_id,
      absl::string_view reason,
      const std::function<absl::StatusOr<iam::v1::Badge>(const CommitFn&)>& change,
      iam::v1::BadgeResponse* response);
  absl::Status ChangeAllOf(grpc::CallbackServerContext* context,
                           const iam::v1::PersonBadgesRequest& request,
                           bool revoke, iam::v1::PersonBadgesResponse* response);

  const Deps deps_;
  audit::ChangeRecorder recorder_;
  const CallerConfig caller_config_;
  std::atomic<GrantSource*> grants_{nullptr};
  // Every blocking handler (admissions wait on other services and a synced
  // audit record). Last: destroyed first.
  ThreadPool pool_{32};
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_BADGE_SERVICE_H_
