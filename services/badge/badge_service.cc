#include "services/badge/badge_service.h"

#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/status_macros.h"

namespace iam::badge {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr size_t kMaxFieldLength = 256;

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be 0-", kMaxPageSize, " (0 means ", kDefaultPageSize, ")"));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

absl::Status CheckField(absl::string_view name, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  if (value.size() > kMaxFieldLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be at most ", kMaxFieldLength, " characters"));
  }
  return absl::OkStatus();
}

std::string DirectionWord(iam::v1::Direction d) {
  switch (d) {
    case iam::v1::DIRECTION_ENTRY:
      return "entry";
    case iam::v1::DIRECTION_EXIT:
      return "exit";
    default:
      return "unspecified direction";
  }
}

// The audit record of an admission decision: ids only. The card number, like
// a name, stays out of the log unless it is unknown (then the badge id is
// empty and the reason carries it).
iam::v1::AuditRecord AdmitRecord(const std::string& caller, const AdmitDecision& d,
                                 Revision revision) {
  iam::v1::AuditRecord record;
  record.set_caller(caller);
  record.set_action(kAdmitAction);
  record.set_target(d.area_id);
  record.set_person_id(d.person_id);
  record.set_outcome(d.admitted ? iam::v1::AUDIT_OUTCOME_SUCCESS
                                : iam::v1::AUDIT_OUTCOME_DENIED);
  record.set_reason(absl::StrCat("door ", d.door_id.substr(0, 64), ", ",
                                 d.badge_id.empty() ? "" : absl::StrCat("badge ", d.badge_id, ", "),
                                 DirectionWord(d.direction), ": ", d.reason));
  record.set_revision(revision);
  iam::v1::AuditDecision* decision = record.add_decisions();
  decision->set_person_id(d.person_id);
  decision->set_permission(d.direction == iam::v1::DIRECTION_EXIT ? "area.door:exit"
                                                                  : "area.door:enter");
  decision->set_scope(d.area_scope);
  decision->set_allowed(d.admitted);
  decision->set_reason(d.reason);
  if (!d.companion_person_id.empty()) {
    iam::v1::AuditDecision* companion = record.add_decisions();
    companion->set_person_id(d.companion_person_id);
    companion->set_permission("area.door:enter");
    companion->set_scope(d.area_scope);
    companion->set_allowed(true);
    companion->set_reason(absl::StrCat("two-person rule with ", d.person_id));
  }
  return record;
}

}  // namespace

BadgeServiceImpl::BadgeServiceImpl(const Deps& deps,
                                   const CallerConfig& caller_config)
    : deps_(deps), recorder_(deps.audit_log), caller_config_(caller_config) {}

void BadgeServiceImpl::set_grant_source(GrantSource* source) {
  grants_.store(source);
  deps_.admitter->set_grant_source(source);
  deps_.lists->set_grant_source(source);
}

absl::StatusOr<std::string> BadgeServiceImpl::Authorize(
    grpc::CallbackServerContext* context, absl::string_view permission,
    absl::string_view action, absl::string_view target) {
  absl::StatusOr<std::string> caller = CallerFromContext(*context, caller_config_);
  if (!caller.ok()) {
    return recorder_.RecordRefusal("", action, target, caller.status());
  }
  absl::Status allowed = deps_.authorizer->Require(*caller, permission);
  if (!allowed.ok()) {
    return recorder_.RecordRefusal(*caller, action, target, allowed);
  }
  return caller;
}

grpc::ServerUnaryReactor* BadgeServiceImpl::Admit(
    grpc::CallbackServerContext* context, const iam::v1::AdmitRequest* request,
    iam::v1::AdmitResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // On the pool: the grant source may call another service. The durable
  // audit record (with the presence change it makes) is not waited for: the
  // decision is answered from the audit log's completion, so no thread is
  // held while records are synced (they share one sync).
  pool_.Schedule([=]() {
    absl::StatusOr<std::string> caller =
        Authorize(context, kPermDoorsAdmit, kAdmitAction,
                  request->door_id().substr(0, 64));
    if (!caller.ok()) {
      reactor->Finish(ToGrpcStatus(caller.status()));
      return;
    }
    AdmitInput input;
    input.door_id = request->door_id();
    input.card_number = request->card_number();
    input.direction = request->direction();
    input.presented_at_unix_micros = request->presented_at_unix_micros();
    deps_.admitter->AdmitThen(
        input,
        [this, caller = *std::move(caller), response](
            const AdmitDecision& d, WriteBatch presence,
            Admitter::RecordDone recorded) {
          deps_.audit_log->AppendThen(
              AdmitRecord(caller, d, deps_.store->CurrentRevision()),
              std::move(presence),
              [this, response, recorded = std::move(recorded)](
                  absl::StatusOr<int64_t> appended) {
                // On the audit log's completion thread. A failed record's
                // undo is in memory (the presence went with the record).
                if (appended.ok()) response->set_audit_sequence(*appended);
                recorded(appended.status());
              });
        },
        [reactor, response](AdmitDecision d) {
          response->set_admitted(d.admitted);
          response->set_reason(std::move(d.reason));
          response->set_person_id(std::move(d.person_id));
          response->set_badge_id(std::move(d.badge_id));
          response->set_area_id(std::move(d.area_id));
          reactor->Finish(grpc::Status::OK);
        });
  });
  return reactor;
}

grpc::ServerUnaryReactor* BadgeServiceImpl::GetDoorList(
    grpc::CallbackServerContext* context, const iam::v1::GetDoorListRequest* request,
    iam::v1::SignedDoorList* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermDoorsAdmit, "badge.door_list.get",
                               request->door_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("door_id", request->door_id()));
    ASSIGN_OR_RETURN(*response, deps_.lists->Full(request->door_id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::GetDoorListDelta(
    grpc::CallbackServerContext* context,
    const iam::v1::GetDoorListDeltaRequest* request,
    iam::v1::SignedDoorList* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermDoorsAdmit, "badge.door_list.delta",
                               request->door_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("door_id", request->door_id()));
    ASSIGN_OR_RETURN(*response,
                     deps_.lists->Delta(request->door_id(), request->epoch(),
                                        request->since_version()));
    return absl::OkStatus();
  });
}

absl::Status BadgeServiceImpl::AuditedBadgeChange(
    absl::string_view caller, absl::string_view action, absl::string_view badge_id,
    absl::string_view reason,
    const std::function<absl::StatusOr<iam::v1::Badge>(const CommitFn&)>& change,
    iam::v1::BadgeResponse* response) {
  // A badge never changes hands, so its person is known before the change;
  // the change and its record then go in one synced write.
  absl::StatusOr<iam::v1::Badge> before = deps_.badges->Get(badge_id);
  const std::string person = before.ok() ? before->person_id() : "";
  const audit::ChangeInfo info{caller, action, badge_id, person, reason};
  bool committed = false;
  absl::StatusOr<iam::v1::Badge> result = change(recorder_.Committing(info, &committed));
  Revision revision = result.ok() ? result->revision() : 0;
  RETURN_IF_ERROR(recorder_.Finish(info, result.status(), revision, committed));
  *response->mutable_badge() = *result;
  response->set_revision(revision);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* BadgeServiceImpl::IssueBadge(
    grpc::CallbackServerContext* context, const iam::v1::IssueBadgeRequest* request,
    iam::v1::BadgeResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBadgesWrite, "badge.issue",
                               request->person_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("person_id", request->person_id()));
    // Cheap checks first, so a malformed request never reaches identity.
    RETURN_IF_ERROR(NormalizeCardNumber(request->card_number()).status());
    GrantSource* source = grants_.load();
    if (source == nullptr) return absl::UnavailableError("the server is starting; retry");
    absl::StatusOr<iam::v1::PersonStatus> status = source->Status(request->person_id());
    if (absl::IsNotFound(status.status())) {
      return absl::NotFoundError(absl::StrCat(
          "no person '", request->person_id(), "'; create the person first"));
    }
    if (!status.ok()) return status.status();
    if (*status != iam::v1::PERSON_STATUS_ACTIVE &&
        *status != iam::v1::PERSON_STATUS_PENDING) {
      return absl::FailedPreconditionError(absl::StrCat(
          "person ", request->person_id(), " is ",
          iam::v1::PersonStatus_Name(*status),
          "; badges are issued to active or pending people only"));
    }
    BadgeRegistry::IssueRequest issue;
    issue.person_id = request->person_id();
    issue.card_number = request->card_number();
    issue.kind = request->kind() == iam::v1::BADGE_KIND_UNSPECIFIED
                     ? iam::v1::BADGE_KIND_EMPLOYEE
                     : request->kind();
    issue.expires_at = absl::FromUnixSeconds(request->expires_at_unix());
    issue.issued_by = caller;
    issue.reason = request->reason();
    // The badge and its record (which names the id the registry assigns)
    // in one synced write.
    const audit::ChangeInfo info{caller, "badge.issue", "", request->person_id(),
                                 request->reason()};
    bool committed = false;
    absl::StatusOr<iam::v1::Badge> issued =
        deps_.badges->Issue(issue, recorder_.CommittingNamed(info, &committed));
    Revision revision = issued.ok() ? issued->revision() : 0;
    RETURN_IF_ERROR(recorder_.Finish(info, issued.status(), revision, committed));
    *response->mutable_badge() = *issued;
    response->set_revision(revision);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::GetBadge(
    grpc::CallbackServerContext* context, const iam::v1::GetBadgeRequest* request,
    iam::v1::BadgeResponse* response) {
  return FinishUnary(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBadgesRead, "badge.get",
                               request->badge_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("badge_id", request->badge_id()));
    ASSIGN_OR_RETURN(*response->mutable_badge(), deps_.badges->Get(request->badge_id()));
    response->set_revision(response->badge().revision());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::ListBadges(
    grpc::CallbackServerContext* context, const iam::v1::ListBadgesRequest* request,
    iam::v1::ListBadgesResponse* response) {
  return FinishUnary(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBadgesRead, "badge.list", ""));
    ASSIGN_OR_RETURN(int limit, PageSize(request->page_size()));
    std::string after;
    if (!request->page_token().empty() &&
        !absl::WebSafeBase64Unescape(request->page_token(), &after)) {
      return absl::InvalidArgumentError(
          "page_token is malformed; pass next_page_token from the previous "
          "response unchanged");
    }
    if (!iam::v1::BadgeState_IsValid(request->state())) {
      return absl::InvalidArgumentError("state is not a badge state");
    }
    std::vector<iam::v1::Badge> page =
        deps_.badges->List(request->person_id(), request->state(), after, limit + 1);
    bool more = static_cast<int>(page.size()) > limit;
    if (more) page.resize(limit);
    for (auto& b : page) *response->add_badges() = std::move(b);
    if (more) {
      response->set_next_page_token(
          absl::WebSafeBase64Escape(response->badges(limit - 1).id()));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::ReportBadgeLost(
    grpc::CallbackServerContext* context, const iam::v1::BadgeChangeRequest* request,
    iam::v1::BadgeResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBadgesWrite, "badge.lost",
                               request->badge_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("badge_id", request->badge_id()));
    return AuditedBadgeChange(
        caller, "badge.lost", request->badge_id(), request->reason(),
        [&](const CommitFn& commit) {
          return deps_.badges->ReportLost(request->badge_id(), request->reason(), commit);
        },
        response);
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::RevokeBadge(
    grpc::CallbackServerContext* context, const iam::v1::BadgeChangeRequest* request,
    iam::v1::BadgeResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBadgesWrite, "badge.revoke",
                               request->badge_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("badge_id", request->badge_id()));
    return AuditedBadgeChange(
        caller, "badge.revoke", request->badge_id(), request->reason(),
        [&](const CommitFn& commit) {
          return deps_.badges->Revoke(request->badge_id(), request->reason(), commit);
        },
        response);
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::ResumeBadge(
    grpc::CallbackServerContext* context, const iam::v1::BadgeChangeRequest* request,
    iam::v1::BadgeResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermBadgesWrite, "badge.resume",
                               request->badge_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("badge_id", request->badge_id()));
    return AuditedBadgeChange(
        caller, "badge.resume", request->badge_id(), request->reason(),
        [&](const CommitFn& commit) {
          return deps_.badges->Resume(request->badge_id(), request->reason(), commit);
        },
        response);
  });
}

absl::Status BadgeServiceImpl::ChangeAllOf(grpc::CallbackServerContext* context,
                                           const iam::v1::PersonBadgesRequest& request,
                                           bool revoke,
                                           iam::v1::PersonBadgesResponse* response) {
  const char* action = revoke ? "badge.revoke_all_of" : "badge.suspend_all_of";
  ASSIGN_OR_RETURN(std::string caller,
                   Authorize(context, kPermBadgesWrite, action,
                             request.person_id().substr(0, 64)));
  RETURN_IF_ERROR(CheckField("person_id", request.person_id()));
  // The badges change together with their record (one synced write); the
  // record's target counts them (the registry commits one op per badge).
  std::string target = absl::StrCat(request.person_id(), " (0 badges)");
  bool committed = false;
  CommitFn commit = [&](const WriteBatch& batch) {
    target = absl::StrCat(request.person_id(), " (", batch.ops().size(), " badges)");
    const audit::ChangeInfo info{caller, action, target, request.person_id(),
                                 request.reason()};
    return recorder_.Committing(info, &committed)(batch);
  };
  auto changed =
      revoke ? deps_.badges->RevokeAllOf(request.person_id(), request.reason(), commit)
             : deps_.badges->SuspendAllOf(request.person_id(), request.reason(), commit);
  RETURN_IF_ERROR(recorder_.Finish(
      {caller, action, target, request.person_id(), request.reason()},
      changed.status(), changed.ok() ? changed->second : 0, committed));
  for (auto& b : changed->first) *response->add_badges() = std::move(b);
  response->set_revision(changed->second);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* BadgeServiceImpl::SuspendBadgesOf(
    grpc::CallbackServerContext* context, const iam::v1::PersonBadgesRequest* request,
    iam::v1::PersonBadgesResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    return ChangeAllOf(context, *request, /*revoke=*/false, response);
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::RevokeBadgesOf(
    grpc::CallbackServerContext* context, const iam::v1::PersonBadgesRequest* request,
    iam::v1::PersonBadgesResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    return ChangeAllOf(context, *request, /*revoke=*/true, response);
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::ListAreas(
    grpc::CallbackServerContext* context, const iam::v1::ListAreasRequest*,
    iam::v1::ListAreasResponse* response) {
  return FinishUnary(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAreasRead, "badge.area.list", ""));
    for (const auto& area : deps_.areas->snapshot()->areas()) {
      *response->add_areas() = area->proto;
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::WhoCanEnter(
    grpc::CallbackServerContext* context, const iam::v1::WhoCanEnterRequest* request,
    iam::v1::WhoCanEnterResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAreasRead, "badge.area.who_can_enter",
                               request->area_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("area_id", request->area_id()));
    ASSIGN_OR_RETURN(std::vector<iam::v1::DoorListEntry> entries,
                     deps_.lists->Entries(request->area_id()));
    for (auto& e : entries) *response->add_entries() = std::move(e);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* BadgeServiceImpl::AreaLog(
    grpc::CallbackServerContext* context, const iam::v1::AreaLogRequest* request,
    iam::v1::AreaLogResponse* response) {
  return FinishUnaryOn(&pool_, context, [=]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string caller,
                     Authorize(context, kPermAreasRead, "badge.area.log",
                               request->area_id().substr(0, 64)));
    RETURN_IF_ERROR(CheckField("area_id", request->area_id()));
    if (deps_.areas->snapshot()->FindArea(request->area_id()) == nullptr) {
      return absl::NotFoundError(absl::StrCat("no area '", request->area_id(), "'"));
    }
    ASSIGN_OR_RETURN(int limit, PageSize(request->limit()));
    if (request->since_unix_micros() < 0) {
      return absl::InvalidArgumentError("since_unix_micros must not be negative");
    }
    iam::v1::QueryAuditRequest query;
    query.set_action_prefix(kAdmitAction);
    query.set_target(request->area_id());
    query.set_since_unix_micros(
        request->since_unix_micros() != 0
            ? request->since_unix_micros()
            : absl::ToUnixMicros(deps_.clock->Now() - absl::Hours(24)));
    query.set_page_size(kMaxPageSize);
    // The log answers oldest first: keep the newest `limit`.
    std::deque<iam::v1::AuditRecord> newest;
    while (true) {
      ASSIGN_OR_RETURN(iam::v1::QueryAuditResponse page, deps_.audit_log->Query(query));
      for (auto& r : *page.mutable_records()) {
        newest.push_back(std::move(r));
        if (static_cast<int>(newest.size()) > limit) newest.pop_front();
      }
      if (page.next_page_token().empty()) break;
      query.set_page_token(page.next_page_token());
    }
    for (auto& r : newest) *response->add_records() = std::move(r);
    return absl::OkStatus();
  });
}

}  // namespace iam::badge
