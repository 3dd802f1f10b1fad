#include "services/lifecycle/lifecycle.h"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/common/status_macros.h"
#include "services/lifecycle/event_time.h"

namespace iam::lifecycle {
namespace {

using iam::v1::Grant;
using iam::v1::HrEventResult;
using iam::v1::HrEventType;
using iam::v1::Person;
using iam::v1::PersonLifecycle;
using iam::v1::PersonStatus;
using iam::v1::RoleBinding;
using internal::StoredEvent;

constexpr size_t kMaxReasonLength = 400;
constexpr int kParallelism = 8;

const iam::v1::HrEvent& Header(const StoredEvent& e) {
  switch (e.request_case()) {
    case StoredEvent::kHire:
      return e.hire().event();
    case StoredEvent::kMove:
      return e.move().event();
    case StoredEvent::kLeave:
      return e.leave().event();
    case StoredEvent::kSuspend:
      return e.suspend().event();
    case StoredEvent::kReinstate:
      return e.reinstate().event();
    default:
      return iam::v1::HrEvent::default_instance();
  }
}

std::string TypeName(HrEventType type) {
  switch (type) {
    case iam::v1::HR_EVENT_TYPE_HIRE:
      return "hire";
    case iam::v1::HR_EVENT_TYPE_MOVE:
      return "move";
    case iam::v1::HR_EVENT_TYPE_LEAVE:
      return "leave";
    case iam::v1::HR_EVENT_TYPE_SUSPEND:
      return "suspend";
    case iam::v1::HR_EVENT_TYPE_REINSTATE:
      return "reinstate";
    default:
      return "unknown";
  }
}

std::string StatusName(PersonStatus s) {
  switch (s) {
    case iam::v1::PERSON_STATUS_PENDING:
      return "pending";
    case iam::v1::PERSON_STATUS_ACTIVE:
      return "active";
    case iam::v1::PERSON_STATUS_SUSPENDED:
      return "suspended";
    case iam::v1::PERSON_STATUS_LEFT:
      return "left";
    default:
      return "unknown";
  }
}

bool IsEventIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
         c == '/' || c == '-';
}

absl::Status ValidateHeader(const iam::v1::HrEvent& h) {
  if (h.event_id().empty() || h.event_id().size() > 128 ||
      !std::all_of(h.event_id().begin(), h.event_id().end(), IsEventIdChar)) {
    return absl::InvalidArgumentError(
        "event.event_id is required: 1-128 characters of [A-Za-z0-9._:/-], "
        "HR's id of the event (a retry reuses it)");
  }
  if (h.person_id().empty() || h.person_id().size() > 64) {
    return absl::InvalidArgumentError(
        "event.person_id is required (1-64 characters)");
  }
  if (h.reason().size() > kMaxReasonLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "event.reason is longer than ", kMaxReasonLength, " characters"));
  }
  return absl::OkStatus();
}

// The request as identity for idempotency: what HR sent, minus dry_run.
std::string Fingerprint(const StoredEvent& e) {
  StoredEvent copy;
  copy.set_type(e.type());
  switch (e.request_case()) {
    case StoredEvent::kHire:
      *copy.mutable_hire() = e.hire();
      copy.mutable_hire()->mutable_event()->set_dry_run(false);
      break;
    case StoredEvent::kMove:
      *copy.mutable_move() = e.move();
      copy.mutable_move()->mutable_event()->set_dry_run(false);
      break;
    case StoredEvent::kLeave:
      *copy.mutable_leave() = e.leave();
      copy.mutable_leave()->mutable_event()->set_dry_run(false);
      break;
    case StoredEvent::kSuspend:
      *copy.mutable_suspend() = e.suspend();
      copy.mutable_suspend()->mutable_event()->set_dry_run(false);
      break;
    case StoredEvent::kReinstate:
      *copy.mutable_reinstate() = e.reinstate();
      copy.mutable_reinstate()->mutable_event()->set_dry_run(false);
      break;
    default:
      break;
  }
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  copy.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

std::string GrantText(const Grant& g) {
  return absl::StrCat(g.role(), "@", g.scope(),
                      g.binding_id().empty() ? "" : absl::StrCat(" (", g.binding_id(), ")"));
}

std::string MissingText(const Grant& g) {
  std::vector<std::string> parts;
  for (int p : g.missing()) {
    parts.push_back(PrerequisiteText(static_cast<iam::v1::Prerequisite>(p)));
  }
  return absl::StrJoin(parts, ", ");
}

RoleBinding BindingFor(absl::string_view person_id, absl::string_view role,
                       absl::string_view scope, int64_t expires_at_unix,
                       absl::string_view reason) {
  RoleBinding b;
  b.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
  b.mutable_subject()->set_id(std::string(person_id));
  b.set_role(std::string(role));
  b.set_scope(std::string(scope));
  b.set_expires_at_unix(expires_at_unix);
  b.set_reason(std::string(reason).substr(0, 500));
  return b;
}

// "HR <event id>:" starts the reason of every change an event makes.
std::string EventTag(absl::string_view event_id) {
  return absl::StrCat("HR ", event_id, ":");
}

// The lifecycle's audit record of an event: its steps, or why it stopped.
iam::v1::AuditRecord AuditRecordOf(const StoredEvent& event, absl::string_view action,
                                   const absl::Status& outcome) {
  const HrEventResult& r = event.result();
  iam::v1::AuditRecord record;
  record.set_caller(event.caller().empty() ? "lifecycle" : event.caller());
  record.set_action(std::string(action));
  record.set_target(r.event_id());
  record.set_person_id(r.person_id());
  record.set_revision(outcome.ok() ? r.revision() : 0);
  std::string reason = absl::StrCat(EventTag(r.event_id()), " ", Header(event).reason(),
                                    " | effective ",
                                    FormatEffectiveTime(absl::FromUnixSeconds(r.effective_at_unix())));
  if (!r.steps().empty()) {
    absl::StrAppend(&reason, " | steps: ", absl::StrJoin(r.steps(), "; "));
  }
  if (outcome.ok()) {
    record.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
  } else {
    record.set_outcome(iam::v1::AUDIT_OUTCOME_FAILED);
    absl::StrAppend(&reason, " | ", absl::StatusCodeToString(outcome.code()), ": ",
                    outcome.message());
  }
  record.set_reason(std::move(reason));
  return record;
}

absl::Status AuditFailed(const StoredEvent& event, const absl::Status& error) {
  return absl::UnavailableError(absl::StrCat(
      "HR event '", event.result().event_id(), "' was applied but its audit record could not be "
      "written: ", error.message()));
}

// A binding the event made on an earlier, interrupted attempt.
const RoleBinding* Adoptable(const std::vector<RoleBinding>& existing,
                             absl::string_view event_id, absl::string_view role,
                             absl::string_view scope,
                             const std::set<std::string>& taken) {
  const std::string tag = EventTag(event_id);
  for (const RoleBinding& b : existing) {
    if (b.role() == role && b.scope() == scope &&
        absl::StartsWith(b.reason(), tag) && taken.count(b.id()) == 0) {
      return &b;
    }
  }
  return nullptr;
}

// Runs the tasks on up to kParallelism threads (the caller's included);
// returns the first error in task order.
absl::Status RunAll(std::vector<std::function<absl::Status()>> tasks) {
  if (tasks.empty()) return absl::OkStatus();
  std::vector<absl::Status> results(tasks.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < tasks.size(); i = next++) results[i] = tasks[i]();
  };
  std::vector<std::thread> threads;
  const size_t extra = std::min<size_t>(kParallelism, tasks.size()) - 1;
  for (size_t i = 0; i < extra; ++i) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (const auto& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// --- Dry-run decorators: reads pass through, writes are only imagined. ---

class DryRunPeople final : public PersonDirectory {
 public:
  explicit DryRunPeople(PersonDirectory* real) : real_(real) {}
  absl::StatusOr<Person> Get(absl::string_view id) override {
    if (created_.has_value() && created_->id() == id) return *created_;
    return real_->Get(id);
  }
  absl::StatusOr<std::pair<Person, Revision>> Create(const Person& p,
                                                     absl::string_view) override {
    created_ = p;
    return std::make_pair(p, Revision{0});
  }
  absl::StatusOr<std::pair<Person, Revision>> Update(
      const Person& p, const std::vector<std::string>& mask,
      absl::string_view) override {
    ASSIGN_OR_RETURN(Person merged, Get(p.id()));
    for (const std::string& f : mask) {
      if (f == "org_unit") merged.set_org_unit(p.org_unit());
      if (f == "job_code") merged.set_job_code(p.job_code());
      if (f == "site") merged.set_site(p.site());
      if (f == "manager_id") merged.set_manager_id(p.manager_id());
      if (f == "status") merged.set_status(p.status());
    }
    return std::make_pair(merged, Revision{0});
  }
  absl::StatusOr<std::pair<Person, Revision>> RecordAttestation(
      absl::string_view, iam::v1::AttestationType, absl::string_view) override {
    return absl::FailedPreconditionError("not available in a dry run");
  }

 private:
  PersonDirectory* const real_;
  absl::optional<Person> created_;  // by this dry run
};

class DryRunAccess final : public AccessGrants {
 public:
  explicit DryRunAccess(AccessGrants* real) : real_(real) {}
  absl::StatusOr<std::vector<RoleBinding>> ListOf(absl::string_view id) override {
    return real_->ListOf(id);
  }
  absl::StatusOr<std::pair<RoleBinding, Revision>> Bind(const RoleBinding& b) override {
    return std::make_pair(b, Revision{0});
  }
  absl::StatusOr<Revision> Unbind(absl::string_view, absl::string_view) override {
    return Revision{0};
  }
  absl::StatusOr<Removed> UnbindAllOf(absl::string_view id, absl::string_view) override {
    ASSIGN_OR_RETURN(std::vector<RoleBinding> held, real_->ListOf(id));
    Removed out;
    for (const RoleBinding& b : held) out.binding_ids.push_back(b.id());
    return out;
  }

 private:
  AccessGrants* const real_;
};

class DryRunCredentials final : public CredentialRevoker {
 public:
  absl::StatusOr<Result> Revoke(absl::string_view, absl::string_view) override {
    return Result{true, 0};
  }
};

class DryRunBadges final : public BadgeRevoker {
 public:
  absl::StatusOr<Result> RevokeAll(absl::string_view, absl::string_view) override {
    return Result{};
  }
  absl::StatusOr<Result> SuspendAll(absl::string_view, absl::string_view) override {
    return Result{};
  }
  absl::StatusOr<Revision> Resume(absl::string_view, absl::string_view) override {
    return Revision{0};
  }
};

// Whether an event of `type` may apply to a person in `status` (`exists`
// false: no such person yet). `life` tells whether a Leave was applied.
absl::Status Applicable(HrEventType type, bool exists, PersonStatus status,
                        absl::string_view person_id, const PersonLifecycle& life) {
  if (type == iam::v1::HR_EVENT_TYPE_HIRE) {
    if (exists && !(status == iam::v1::PERSON_STATUS_PENDING && life.hired_here())) {
      return absl::AlreadyExistsError(absl::StrCat(
          "person '", person_id, "' already exists (", StatusName(status),
          "); a Hire creates a new person: send a Move to change their job"));
    }
    return absl::OkStatus();
  }
  if (!exists) {
    return absl::NotFoundError(absl::StrCat(
        "unknown person '", person_id,
        "': send their Hire first (or correct the person id)"));
  }
  const bool left_here = std::any_of(
      life.history().begin(), life.history().end(), [](const auto& h) {
        return h.type() == iam::v1::HR_EVENT_TYPE_LEAVE;
      });
  if (status == iam::v1::PERSON_STATUS_LEFT &&
      (type != iam::v1::HR_EVENT_TYPE_LEAVE || left_here)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "person '", person_id, "' has left",
        life.last_event_id().empty() ? ""
                                     : absl::StrCat(" (last event '", life.last_event_id(), "')"),
        "; no event applies to a leaver: a returning employee is hired under "
        "a new person id"));
  }
  auto need = [&](PersonStatus want, absl::string_view what) -> absl::Status {
    if (status == want) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("person '", person_id, "' is ", StatusName(status),
                     " at that time; ", what));
  };
  switch (type) {
    case iam::v1::HR_EVENT_TYPE_MOVE:
      return need(iam::v1::PERSON_STATUS_ACTIVE,
                  "a Move needs an active person (reinstate or hire first)");
    case iam::v1::HR_EVENT_TYPE_SUSPEND:
      return need(iam::v1::PERSON_STATUS_ACTIVE, "only an active person can be suspended");
    case iam::v1::HR_EVENT_TYPE_REINSTATE:
      return need(iam::v1::PERSON_STATUS_SUSPENDED,
                  "only a suspended person can be reinstated");
    default:
      return absl::OkStatus();
  }
}

PersonStatus StatusAfter(HrEventType type, PersonStatus before) {
  switch (type) {
    case iam::v1::HR_EVENT_TYPE_HIRE:
    case iam::v1::HR_EVENT_TYPE_REINSTATE:
      return iam::v1::PERSON_STATUS_ACTIVE;
    case iam::v1::HR_EVENT_TYPE_LEAVE:
      return iam::v1::PERSON_STATUS_LEFT;
    case iam::v1::HR_EVENT_TYPE_SUSPEND:
      return iam::v1::PERSON_STATUS_SUSPENDED;
    default:
      return before;
  }
}

}  // namespace

// One run of an event's steps.
struct Lifecycle::Attempt {
  StoredEvent event;
  PersonLifecycle life;
  bool dry_run = false;
  // True when the event was queued (SCHEDULED) rather than resumed: its
  // preconditions are checked again against the state it meets now.
  bool from_schedule = false;
  Services ports;
  std::string reason;  // "HR <id>: <HR's reason>"
  absl::Time now;
  int effects = 0;  // changes made by this attempt
  // The APPLYING record is not committed yet: the step's first commit of
  // the lifecycle store carries it, before any other service is changed.
  bool unsaved = false;
  // Other events of the person to mark FAILED with the final commit.
  std::vector<StoredEvent> cancelled;

  HrEventResult& result() { return *event.mutable_result(); }
  const std::string& person_id() { return event.result().person_id(); }
  void Step(std::string text) { result().add_steps(std::move(text)); }
  void Saw(Revision r) {
    if (r > result().revision()) result().set_revision(r);
  }
  // Runs `steps` at once (each a synced write, with its audit record, in its
  // own service), counts those that changed something and sees their
  // revisions; returns the first error in step order.
  absl::Status RunAtOnce(
      const std::vector<std::function<absl::StatusOr<Revision>()>>& steps) {
    std::vector<Revision> revisions(steps.size(), 0);
    std::vector<std::function<absl::Status()>> tasks;
    for (size_t i = 0; i < steps.size(); ++i) {
      tasks.push_back([&, i]() -> absl::Status {
        ASSIGN_OR_RETURN(revisions[i], steps[i]());
        return absl::OkStatus();
      });
    }
    absl::Status done = RunAll(std::move(tasks));
    for (Revision r : revisions) {
      if (r > 0) ++effects;
      Saw(r);
    }
    return done;
  }
  void AddHistory(const Person& p) {
    iam::v1::JobHistoryEntry* h = life.add_history();
    h->set_event_id(event.result().event_id());
    h->set_type(event.type());
    h->set_effective_at_unix(event.result().effective_at_unix());
    h->set_org_unit(p.org_unit());
    h->set_job_code(p.job_code());
    h->set_site(p.site());
    h->set_manager_id(p.manager_id());
    h->set_status(p.status());
    h->set_reason(Header(event).reason());
  }
};

Lifecycle::Lifecycle(Store* store, const Clock* clock,
                     const BirthrightPolicy* policy, Services services,
                     audit::AuditLog* audit_log)
    : store_(store),
      records_(store),
      clock_(clock),
      policy_(policy),
      services_(services),
      audit_log_(audit_log) {}

absl::Mutex& Lifecycle::LockFor(absl::string_view person_id) {
  return person_locks_[absl::Hash<absl::string_view>()(person_id) %
                       person_locks_.size()];
}

void Lifecycle::NotifyScheduled() {
  if (schedule_listener_) schedule_listener_();
}

absl::StatusOr<HrEventResult> Lifecycle::Hire(const iam::v1::HireRequest& request,
                                              absl::string_view caller) {
  const iam::v1::HrEvent& h = request.event();
  if (request.display_name().empty()) {
    return absl::InvalidArgumentError("display_name is required for a Hire");
  }
  RETURN_IF_ERROR(policy_->CheckOrgUnit(request.org_unit()));
  RETURN_IF_ERROR(policy_->CheckJobCode(request.job_code()));
  RETURN_IF_ERROR(policy_->CheckSite(request.site()));
  if (request.manager_id() == h.person_id() && !h.person_id().empty()) {
    return absl::InvalidArgumentError("manager_id cannot be the person themself");
  }
  StoredEvent e;
  e.set_type(iam::v1::HR_EVENT_TYPE_HIRE);
  *e.mutable_hire() = request;
  e.set_caller(std::string(caller));
  return Submit(std::move(e), h.dry_run());
}

absl::StatusOr<HrEventResult> Lifecycle::Move(const iam::v1::MoveRequest& request,
                                              absl::string_view caller) {
  if (request.org_unit().empty() && request.job_code().empty() &&
      request.site().empty() && request.manager_id().empty()) {
    return absl::InvalidArgumentError(
        "a Move must change at least one of org_unit, job_code, site, "
        "manager_id");
  }
  if (!request.org_unit().empty()) RETURN_IF_ERROR(policy_->CheckOrgUnit(request.org_unit()));
  if (!request.job_code().empty()) RETURN_IF_ERROR(policy_->CheckJobCode(request.job_code()));
  if (!request.site().empty()) RETURN_IF_ERROR(policy_->CheckSite(request.site()));
  StoredEvent e;
  e.set_type(iam::v1::HR_EVENT_TYPE_MOVE);
  *e.mutable_move() = request;
  e.set_caller(std::string(caller));
  return Submit(std::move(e), request.event().dry_run());
}

absl::StatusOr<HrEventResult> Lifecycle::Leave(const iam::v1::LeaveRequest& request,
                                               absl::string_view caller) {
  StoredEvent e;
  e.set_type(iam::v1::HR_EVENT_TYPE_LEAVE);
  *e.mutable_leave() = request;
  e.set_caller(std::string(caller));
  return Submit(std::move(e), request.event().dry_run());
}

absl::StatusOr<HrEventResult> Lifecycle::Suspend(
    const iam::v1::SuspendRequest& request, absl::string_view caller) {
  StoredEvent e;
  e.set_type(iam::v1::HR_EVENT_TYPE_SUSPEND);
  *e.mutable_suspend() = request;
  e.set_caller(std::string(caller));
  return Submit(std::move(e), request.event().dry_run());
}

absl::StatusOr<HrEventResult> Lifecycle::Reinstate(
    const iam::v1::ReinstateRequest& request, absl::string_view caller) {
  StoredEvent e;
  e.set_type(iam::v1::HR_EVENT_TYPE_REINSTATE);
  *e.mutable_reinstate() = request;
  e.set_caller(std::string(caller));
  return Submit(std::move(e), request.event().dry_run());
}

absl::StatusOr<HrEventResult> Lifecycle::Submit(StoredEvent incoming, bool dry_run) {
  const iam::v1::HrEvent header = Header(incoming);
  RETURN_IF_ERROR(ValidateHeader(header));
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(absl::Time effective,
                   ParseEffectiveTime(header.effective_at(), now, "event.effective_at"));
  HrEventResult& r = *incoming.mutable_result();
  r.set_event_id(header.event_id());
  r.set_type(incoming.type());
  r.set_person_id(header.person_id());
  r.set_effective_at_unix(absl::ToUnixSeconds(effective));
  incoming.set_received_at_unix(absl::ToUnixSeconds(now));

  {
    absl::MutexLock lock(&claims_mu_);
    if (!claimed_events_.insert(header.event_id()).second) {
      return absl::AbortedError(absl::StrCat(
          "HR event '", header.event_id(),
          "' is being applied by another call right now; retry shortly"));
    }
  }
  absl::Cleanup release = [&] {
    absl::MutexLock lock(&claims_mu_);
    claimed_events_.erase(header.event_id());
  };
  absl::MutexLock person_lock(&LockFor(header.person_id()));

  absl::StatusOr<StoredEvent> existing = records_.GetEvent(header.event_id());
  if (existing.ok()) {
    if (Fingerprint(*existing) != Fingerprint(incoming)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "HR event id '", header.event_id(), "' was already used for a ",
          TypeName(existing->type()), " of person '",
          existing->result().person_id(),
          "' with different content; a new event needs a new id"));
    }
    if (!dry_run && existing->result().state() == iam::v1::HR_EVENT_STATE_APPLYING &&
        existing->result().effective_at_unix() <= absl::ToUnixSeconds(now)) {
      return Run(*std::move(existing), /*dry_run=*/false);
    }
    HrEventResult out = existing->result();
    out.set_replayed(true);
    return out;
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();

  if (!dry_run) {
    int applied = 0;
    absl::Status earlier = ApplyDueOfPersonLocked(header.person_id(), &applied);
    if (!earlier.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "an earlier event of person '", header.person_id(),
          "' is due but could not be applied yet, and events apply in order: ",
          earlier.message()));
    }
  }
  ASSIGN_OR_RETURN(PersonLifecycle life, records_.GetPerson(header.person_id()));
  RETURN_IF_ERROR(ValidateNew(incoming, effective, life));
  if (effective > now) {
    if (dry_run) {
      r.set_state(iam::v1::HR_EVENT_STATE_SCHEDULED);
      r.set_dry_run(true);
      r.add_steps(absl::StrCat("would be scheduled for ",
                               FormatEffectiveTime(effective),
                               "; its changes are worked out when it applies"));
      return r;
    }
    return Schedule(std::move(incoming), std::move(life));
  }
  return Run(std::move(incoming), dry_run);
}

absl::Status Lifecycle::ValidateNew(const StoredEvent& event, absl::Time effective,
                                    const PersonLifecycle& life) {
  const std::string& pid = event.result().person_id();
  const int64_t at = absl::ToUnixSeconds(effective);
  if (at < life.last_effective_at_unix()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this event would apply backwards: it is effective at ",
        FormatEffectiveTime(effective), " but event '", life.last_event_id(),
        "', effective at ",
        FormatEffectiveTime(absl::FromUnixSeconds(life.last_effective_at_unix())),
        ", was already applied for person '", pid,
        "'; send a correcting event effective at or after that time"));
  }
  if (life.scheduled_leave_unix() != 0 && at >= life.scheduled_leave_unix() &&
      event.type() != iam::v1::HR_EVENT_TYPE_LEAVE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "person '", pid, "' is scheduled to leave at ",
        FormatEffectiveTime(absl::FromUnixSeconds(life.scheduled_leave_unix())),
        "; no event may follow a leave"));
  }
  if (life.scheduled_leave_unix() != 0 && at >= life.scheduled_leave_unix()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "person '", pid, "' already has a leave scheduled at ",
        FormatEffectiveTime(absl::FromUnixSeconds(life.scheduled_leave_unix())),
        "; an earlier leaving date may be sent, a later one cannot"));
  }
  absl::StatusOr<Person> person = services_.people->Get(pid);
  if (!person.ok() && !absl::IsNotFound(person.status())) return person.status();
  bool exists = person.ok();
  PersonStatus status = exists ? person->status() : iam::v1::PERSON_STATUS_UNSPECIFIED;
  // Project the status through the person's scheduled events before this one.
  std::vector<StoredEvent> before;
  for (const std::string& id : life.scheduled_event_ids()) {
    absl::StatusOr<StoredEvent> s = records_.GetEvent(id);
    if (s.ok() && s->result().effective_at_unix() <= at) before.push_back(*s);
  }
  std::sort(before.begin(), before.end(), [](const auto& a, const auto& b) {
    return a.result().effective_at_unix() < b.result().effective_at_unix();
  });
  for (const StoredEvent& s : before) {
    if (s.type() == iam::v1::HR_EVENT_TYPE_HIRE) exists = true;
    status = StatusAfter(s.type(), status);
  }
  RETURN_IF_ERROR(Applicable(event.type(), exists, status, pid, life));
  if (event.type() == iam::v1::HR_EVENT_TYPE_HIRE && !event.hire().manager_id().empty()) {
    absl::StatusOr<Person> manager = services_.people->Get(event.hire().manager_id());
    if (absl::IsNotFound(manager.status())) {
      return absl::NotFoundError(absl::StrCat(
          "unknown manager '", event.hire().manager_id(), "'"));
    }
    if (!manager.ok()) return manager.status();
    if (manager->status() == iam::v1::PERSON_STATUS_LEFT) {
      return absl::FailedPreconditionError(absl::StrCat(
          "manager '", manager->id(), "' has left; name a current manager"));
    }
  }
  if (event.type() == iam::v1::HR_EVENT_TYPE_MOVE && exists && person.ok()) {
    const iam::v1::MoveRequest& m = event.move();
    if ((m.org_unit().empty() || m.org_unit() == person->org_unit()) &&
        (m.job_code().empty() || m.job_code() == person->job_code()) &&
        (m.site().empty() || m.site() == person->site()) &&
        (m.manager_id().empty() || m.manager_id() == person->manager_id()) &&
        before.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "this Move changes nothing: person '", pid, "' already has org unit ",
          person->org_unit(), ", job ", person->job_code(), ", site ",
          person->site()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<HrEventResult> Lifecycle::Schedule(StoredEvent event,
                                                  PersonLifecycle life) {
  HrEventResult& r = *event.mutable_result();
  const PersonLifecycle before = life;
  r.set_state(iam::v1::HR_EVENT_STATE_SCHEDULED);
  r.add_steps(absl::StrCat("scheduled for ",
                           FormatEffectiveTime(absl::FromUnixSeconds(r.effective_at_unix()))));
  life.add_scheduled_event_ids(r.event_id());
  if (event.type() == iam::v1::HR_EVENT_TYPE_LEAVE) {
    life.set_scheduled_leave_unix(r.effective_at_unix());
  }
  if (event.type() == iam::v1::HR_EVENT_TYPE_HIRE) life.set_hired_here(true);
  WriteBatch batch;
  LifecycleStore::PutEvent(event, &batch);
  LifecycleStore::PutPerson(life, &batch);
  ASSIGN_OR_RETURN(Revision revision, store_->Commit(batch));
  r.set_revision(revision);
  if (event.type() == iam::v1::HR_EVENT_TYPE_HIRE) {
    // The person exists (pending, no access) from now on, so that
    // attestations and manager links can be recorded before the first day.
    const iam::v1::HireRequest& h = event.hire();
    Person p;
    p.set_id(h.event().person_id());
    p.set_display_name(h.display_name());
    p.set_org_unit(h.org_unit());
    p.set_job_code(h.job_code());
    p.set_site(h.site());
    p.set_manager_id(h.manager_id());
    p.set_status(iam::v1::PERSON_STATUS_PENDING);
    auto created = services_.people->Create(
        p, absl::StrCat(EventTag(r.event_id()), " hired, starts ",
                        FormatEffectiveTime(absl::FromUnixSeconds(r.effective_at_unix())),
                        " ", h.event().reason()));
    if (!created.ok()) {
      // Undo the schedule: the event is refused as a whole.
      WriteBatch undo;
      StoredEvent gone = event;
      gone.mutable_result()->set_state(iam::v1::HR_EVENT_STATE_FAILED);
      LifecycleStore::PutEvent(gone, &undo);  // removes the queue entry
      undo.Delete(kLifecycleColumn, absl::StrCat("event/", r.event_id()));
      LifecycleStore::PutPerson(before, &undo);
      absl::Status undone = store_->Commit(undo).status();
      if (!undone.ok()) return undone;
      return created.status();
    }
    r.add_steps(absl::StrCat("created person ", p.id(), " as pending (no access until ",
                             FormatEffectiveTime(absl::FromUnixSeconds(r.effective_at_unix())),
                             ")"));
    r.set_status_revision(created->second);
    r.set_revision(std::max(r.revision(), created->second));
    WriteBatch again;
    LifecycleStore::PutEvent(event, &again);
    RETURN_IF_ERROR(store_->Commit(again).status());
  }
  RETURN_IF_ERROR(Audit(event, absl::StrCat("lifecycle.", TypeName(event.type()), ".schedule"),
                        absl::OkStatus()));
  NotifyScheduled();
  return r;
}

absl::StatusOr<HrEventResult> Lifecycle::Run(StoredEvent event, bool dry_run) {
  static DryRunCredentials* dry_credentials = new DryRunCredentials;
  static DryRunBadges* dry_badges = new DryRunBadges;
  DryRunPeople dry_people(services_.people);
  DryRunAccess dry_access(services_.access);

  Attempt a;
  const iam::v1::HrEventState initial = event.result().state();
  const bool fresh = initial != iam::v1::HR_EVENT_STATE_APPLYING;
  a.from_schedule = initial == iam::v1::HR_EVENT_STATE_SCHEDULED;
  a.event = std::move(event);
  a.dry_run = dry_run;
  a.now = clock_->Now();
  a.reason = absl::StrCat(EventTag(a.event.result().event_id()), " ",
                          Header(a.event).reason());
  ASSIGN_OR_RETURN(a.life, records_.GetPerson(a.person_id()));
  if (dry_run) {
    a.ports.people = &dry_people;
    a.ports.access = &dry_access;
    a.ports.credentials = services_.credentials ? dry_credentials : nullptr;
    a.ports.badges = services_.badges ? dry_badges : nullptr;
    a.result().set_dry_run(true);
  } else {
    a.ports = services_;
  }
  const StoredEvent as_received = a.event;
  const PersonLifecycle life_before = a.life;
  a.result().clear_steps();
  if (a.from_schedule) {
    a.result().add_steps(absl::StrCat(
        "came due at ",
        FormatEffectiveTime(absl::FromUnixSeconds(a.event.result().effective_at_unix()))));
  }
  if (a.event.startup_status_revision() != 0) {
    a.Step(absl::StrCat("status changed at start-up, before serving, at revision ",
                        a.event.startup_status_revision()));
  }
  if (fresh && !dry_run) {
    // Queued and listed with the person until done, so that a crash or a
    // failing service leaves it to be resumed.
    a.result().set_state(iam::v1::HR_EVENT_STATE_APPLYING);
    const auto& ids = a.life.scheduled_event_ids();
    if (std::find(ids.begin(), ids.end(), a.event.result().event_id()) == ids.end()) {
      a.life.add_scheduled_event_ids(a.event.result().event_id());
    }
    if (a.event.type() == iam::v1::HR_EVENT_TYPE_SUSPEND) {
      // Suspend records the dormant grants before it changes anything:
      // one commit for both.
      a.unsaved = true;
    } else {
      WriteBatch batch;
      LifecycleStore::PutEvent(a.event, &batch);
      LifecycleStore::PutPerson(a.life, &batch);
      ASSIGN_OR_RETURN(Revision r, store_->Commit(batch));
      a.Saw(r);
    }
  }

  absl::Status steps = RunSteps(a);
  if (dry_run) {
    if (!steps.ok()) return steps;
    a.result().set_state(iam::v1::HR_EVENT_STATE_APPLIED);
    return a.result();
  }
  if (!steps.ok()) {
    const bool refused = absl::IsInvalidArgument(steps) || absl::IsNotFound(steps) ||
                         absl::IsFailedPrecondition(steps) ||
                         absl::IsAlreadyExists(steps);
    if (a.effects == 0 && fresh && !a.from_schedule) {
      // Nothing happened: forget the event, so that HR can correct and resend
      // it under the same id.
      WriteBatch undo;
      StoredEvent gone = as_received;
      gone.mutable_result()->set_state(iam::v1::HR_EVENT_STATE_FAILED);
      LifecycleStore::PutEvent(gone, &undo);
      undo.Delete(kLifecycleColumn, absl::StrCat("event/", gone.result().event_id()));
      LifecycleStore::PutPerson(life_before, &undo);
      absl::Status undone = store_->Commit(undo).status();
      if (!undone.ok()) std::cerr << "lifecycle: undo failed: " << undone << "\n";
      Audit(a.event, absl::StrCat("lifecycle.", TypeName(a.event.type())), steps)
          .IgnoreError();
      return steps;
    }
    if (a.effects == 0 && refused) {
      // A scheduled event that no longer fits (e.g. the person was suspended
      // by hand meanwhile): final, nothing applied.
      a.result().set_state(iam::v1::HR_EVENT_STATE_FAILED);
      a.result().set_error(std::string(steps.message()));
      a.life = life_before;
      auto& ids = *a.life.mutable_scheduled_event_ids();
      ids.erase(std::remove(ids.begin(), ids.end(), a.event.result().event_id()), ids.end());
      if (a.event.type() == iam::v1::HR_EVENT_TYPE_LEAVE) a.life.set_scheduled_leave_unix(0);
      WriteBatch batch;
      LifecycleStore::PutEvent(a.event, &batch);
      LifecycleStore::PutPerson(a.life, &batch);
      ASSIGN_OR_RETURN(Revision r, store_->Commit(batch));
      a.Saw(r);
      Audit(a.event, absl::StrCat("lifecycle.", TypeName(a.event.type())), steps)
          .IgnoreError();
      return steps;
    }
    // Part done: stays APPLYING (queued), resumed by a retry or the scheduler.
    Audit(a.event, absl::StrCat("lifecycle.", TypeName(a.event.type())), steps)
        .IgnoreError();
    return absl::UnavailableError(absl::StrCat(
        "HR event '", a.event.result().event_id(), "' was applied part way (",
        absl::StrJoin(a.result().steps(), "; "), ") and stopped: ",
        steps.message(),
        ". It is resumed by a retry with the same event id or by the "
        "scheduler"));
  }
  a.result().set_state(iam::v1::HR_EVENT_STATE_APPLIED);
  a.result().clear_error();
  const int64_t at = a.event.result().effective_at_unix();
  if (at >= a.life.last_effective_at_unix()) {
    a.life.set_last_effective_at_unix(at);
    a.life.set_last_event_id(a.event.result().event_id());
  }
  auto& ids = *a.life.mutable_scheduled_event_ids();
  ids.erase(std::remove(ids.begin(), ids.end(), a.event.result().event_id()), ids.end());
  if (a.event.type() == iam::v1::HR_EVENT_TYPE_LEAVE) a.life.set_scheduled_leave_unix(0);
  WriteBatch batch;
  LifecycleStore::PutEvent(a.event, &batch);
  LifecycleStore::PutPerson(a.life, &batch);
  for (const StoredEvent& c : a.cancelled) LifecycleStore::PutEvent(c, &batch);
  // The final record and the event's audit record go in one synced write;
  // the audit record carries its revision (the one the call returns). If
  // that write fails, neither is stored: the event stays APPLYING and its
  // retry (steps idempotent) finishes and audits it.
  absl::StatusOr<audit::ChangeWritten> written = audit_log_->AppendChange(
      AuditRecordOf(a.event, absl::StrCat("lifecycle.", TypeName(a.event.type())),
                    absl::OkStatus()),
      std::move(batch));
  RETURN_IF_ERROR(written.status());
  a.Saw(written->revision);
  for (const StoredEvent& c : a.cancelled) {
    Audit(c, absl::StrCat("lifecycle.", TypeName(c.type()), ".cancel"),
          absl::OkStatus())
        .IgnoreError();
  }
  return a.result();
}

absl::Status Lifecycle::RunSteps(Attempt& a) {
  switch (a.event.type()) {
    case iam::v1::HR_EVENT_TYPE_HIRE:
      return StepsHire(a);
    case iam::v1::HR_EVENT_TYPE_MOVE:
      return StepsMove(a);
    case iam::v1::HR_EVENT_TYPE_LEAVE:
      return StepsLeave(a);
    case iam::v1::HR_EVENT_TYPE_SUSPEND:
      return StepsSuspend(a);
    case iam::v1::HR_EVENT_TYPE_REINSTATE:
      return StepsReinstate(a);
    default:
      return absl::InvalidArgumentError("unknown HR event type");
  }
}

absl::Status Lifecycle::GrantBirthright(Attempt& a, const Person& person,
                                        const std::vector<PlannedGrant>& planned,
                                        const std::vector<RoleBinding>& existing) {
  std::set<std::string> taken;
  for (const Grant& g : a.life.grants()) taken.insert(g.binding_id());
  for (const PlannedGrant& p : planned) {
    Grant g;
    g.set_role(p.role);
    g.set_scope(p.scope);
    g.set_origin(iam::v1::GRANT_ORIGIN_BIRTHRIGHT);
    g.set_rule(p.rule);
    g.set_event_id(a.event.result().event_id());
    for (iam::v1::Prerequisite m : MissingPrerequisites(p.prerequisites, person)) {
      g.add_missing(m);
    }
    if (g.missing_size() > 0) {
      g.set_state(iam::v1::GRANT_STATE_PENDING_PREREQUISITE);
      a.Step(absl::StrCat("pending ", GrantText(g), ": waits for ", MissingText(g)));
      *a.result().add_pending() = g;
      *a.life.add_grants() = g;
      continue;
    }
    g.set_state(iam::v1::GRANT_STATE_ACTIVE);
    if (const RoleBinding* b = Adoptable(existing, a.event.result().event_id(),
                                         p.role, p.scope, taken)) {
      g.set_binding_id(b->id());
      g.set_reason(b->reason());
    } else {
      ASSIGN_OR_RETURN(auto made,
                       a.ports.access->Bind(BindingFor(
                           a.person_id(), p.role, p.scope, 0,
                           absl::StrCat(a.reason, " (birthright rule ", p.rule, ")"))));
      ++a.effects;
      a.Saw(made.second);
      g.set_binding_id(made.first.id());
      g.set_reason(made.first.reason());
    }
    taken.insert(g.binding_id());
    a.Step(absl::StrCat("granted ", GrantText(g), " by rule ", p.rule));
    *a.result().add_granted() = g;
    *a.life.add_grants() = g;
  }
  return absl::OkStatus();
}

absl::Status Lifecycle::StepsHire(Attempt& a) {
  const iam::v1::HireRequest& h = a.event.hire();
  absl::StatusOr<Person> found = a.ports.people->Get(a.person_id());
  if (!found.ok() && !absl::IsNotFound(found.status())) return found.status();
  if (a.from_schedule) {
    RETURN_IF_ERROR(Applicable(a.event.type(), found.ok(),
                               found.ok() ? found->status() : iam::v1::PERSON_STATUS_UNSPECIFIED,
                               a.person_id(), a.life));
  }
  Person person;
  if (found.ok()) {
    person = *found;
  } else {
    person.set_id(a.person_id());
    person.set_display_name(h.display_name());
    person.set_org_unit(h.org_unit());
    person.set_job_code(h.job_code());
    person.set_site(h.site());
    person.set_manager_id(h.manager_id());
    person.set_status(iam::v1::PERSON_STATUS_PENDING);
    ASSIGN_OR_RETURN(auto created, a.ports.people->Create(person, a.reason));
    ++a.effects;
    a.Saw(created.second);
    person = created.first;
    a.Step(absl::StrCat("created person ", person.id(), " (pending)"));
  }
  a.life.set_hired_here(true);
  if (person.status() != iam::v1::PERSON_STATUS_ACTIVE) {
    // Grants first, activation last: the person gets all of it at once.
    std::vector<RoleBinding> existing;
    if (!a.dry_run || found.ok()) {
      ASSIGN_OR_RETURN(existing, a.ports.access->ListOf(a.person_id()));
    }
    // A resumed hire keeps the grants it already recorded.
    std::vector<PlannedGrant> planned;
    for (PlannedGrant& p : policy_->GrantsFor(h.org_unit(), h.job_code(), h.site())) {
      bool recorded = std::any_of(
          a.life.grants().begin(), a.life.grants().end(), [&](const Grant& g) {
            return g.role() == p.role && g.scope() == p.scope &&
                   g.origin() == iam::v1::GRANT_ORIGIN_BIRTHRIGHT;
          });
      if (!recorded) planned.push_back(std::move(p));
    }
    if (planned.empty() && a.life.grants_size() == 0) {
      a.Step("no birthright rule matches this org unit, job and site");
    }
    RETURN_IF_ERROR(GrantBirthright(a, person, planned, existing));
    Person activate;
    activate.set_id(person.id());
    activate.set_status(iam::v1::PERSON_STATUS_ACTIVE);
    ASSIGN_OR_RETURN(auto activated,
                     a.ports.people->Update(activate, {"status"}, a.reason));
    ++a.effects;
    a.Saw(activated.second);
    a.result().set_status_revision(activated.second);
    person = activated.first;
    a.Step(absl::StrCat("activated ", person.id(), " at revision ", activated.second));
  }
  a.AddHistory(person);
  return absl::OkStatus();
}

absl::Status Lifecycle::StepsMove(Attempt& a) {
  const iam::v1::MoveRequest& m = a.event.move();
  ASSIGN_OR_RETURN(Person person, a.ports.people->Get(a.person_id()));
  if (a.from_schedule) {
    RETURN_IF_ERROR(Applicable(a.event.type(), true, person.status(), a.person_id(), a.life));
  }
  Person change;
  change.set_id(person.id());
  std::vector<std::string> mask;
  if (!m.org_unit().empty() && m.org_unit() != person.org_unit()) {
    change.set_org_unit(m.org_unit());
    mask.push_back("org_unit");
  }
  if (!m.job_code().empty() && m.job_code() != person.job_code()) {
    change.set_job_code(m.job_code());
    mask.push_back("job_code");
  }
  if (!m.site().empty() && m.site() != person.site()) {
    change.set_site(m.site());
    mask.push_back("site");
  }
  if (!m.manager_id().empty() && m.manager_id() != person.manager_id()) {
    change.set_manager_id(m.manager_id());
    mask.push_back("manager_id");
  }
  if (!mask.empty()) {
    ASSIGN_OR_RETURN(auto updated, a.ports.people->Update(change, mask, a.reason));
    ++a.effects;
    a.Saw(updated.second);
    a.result().set_status_revision(updated.second);
    person = updated.first;
    a.Step(absl::StrCat("moved to ", person.org_unit(), " ", person.job_code(),
                        " site ", person.site(), " (", absl::StrJoin(mask, ", "), ")"));
  }
  std::vector<PlannedGrant> planned =
      policy_->GrantsFor(person.org_unit(), person.job_code(), person.site());
  ASSIGN_OR_RETURN(std::vector<RoleBinding> existing, a.ports.access->ListOf(a.person_id()));

  // Old birthright grants: kept when the new job brings them too, else
  // removed (before anything new is granted).
  PersonLifecycle& life = a.life;
  std::vector<Grant> remaining;
  std::vector<std::function<absl::Status()>> unbinds;
  std::vector<Grant> removed;
  for (const Grant& g : life.grants()) {
    if (g.origin() != iam::v1::GRANT_ORIGIN_BIRTHRIGHT) {
      remaining.push_back(g);
      continue;
    }
    auto same = std::find_if(planned.begin(), planned.end(), [&](const PlannedGrant& p) {
      return p.role == g.role() && p.scope == g.scope();
    });
    if (same != planned.end()) {
      Grant kept = g;
      kept.set_rule(same->rule);
      *a.result().add_kept() = kept;
      remaining.push_back(kept);
      planned.erase(same);
      continue;
    }
    removed.push_back(g);
  }
  std::vector<Revision> revisions(removed.size());
  for (size_t i = 0; i < removed.size(); ++i) {
    if (removed[i].state() != iam::v1::GRANT_STATE_ACTIVE) continue;
    unbinds.push_back([&, i]() -> absl::Status {
      ASSIGN_OR_RETURN(revisions[i], a.ports.access->Unbind(removed[i].binding_id(), a.reason));
      return absl::OkStatus();
    });
  }
  absl::Status unbound = RunAll(std::move(unbinds));
  for (Revision r : revisions) {
    if (r > 0) ++a.effects;
    a.Saw(r);
  }
  RETURN_IF_ERROR(unbound);
  for (const Grant& g : removed) {
    a.Step(absl::StrCat("removed ", GrantText(g), ": the new job does not bring it"));
    *a.result().add_removed() = g;
  }
  life.clear_grants();
  for (Grant& g : remaining) *life.add_grants() = std::move(g);
  RETURN_IF_ERROR(GrantBirthright(a, person, planned, existing));

  // Manual grants: portable ones are kept silently, the rest go to review.
  std::set<std::string> removed_ids;
  for (const Grant& g : removed) removed_ids.insert(g.binding_id());
  std::set<std::string> birthright_ids;
  for (const Grant& g : life.grants()) birthright_ids.insert(g.binding_id());
  life.clear_to_review();
  for (const RoleBinding& b : existing) {
    if (birthright_ids.count(b.id()) || removed_ids.count(b.id())) continue;
    Grant g;
    g.set_role(b.role());
    g.set_scope(b.scope());
    g.set_origin(iam::v1::GRANT_ORIGIN_MANUAL);
    g.set_state(iam::v1::GRANT_STATE_ACTIVE);
    g.set_binding_id(b.id());
    g.set_expires_at_unix(b.expires_at_unix());
    g.set_reason(b.reason());
    g.set_event_id(a.event.result().event_id());
    if (policy_->IsPortable(b.role())) {
      *a.result().add_kept() = g;
      a.Step(absl::StrCat("kept manual ", GrantText(g), " (portable role)"));
    } else {
      *a.result().add_to_review() = g;
      *life.add_to_review() = g;
      a.Step(absl::StrCat("manual ", GrantText(g), " kept for review by ",
                          person.manager_id().empty() ? "an administrator"
                                                      : person.manager_id()));
    }
  }
  a.result().set_reviewer_id(person.manager_id());
  a.AddHistory(person);
  return absl::OkStatus();
}

absl::Status Lifecycle::StepsLeave(Attempt& a) {
  // The bindings are listed only to report what they granted: a read, done
  // while the person is read, before anything is removed. Bindings made
  // after it are still removed (reported by id).
  absl::StatusOr<std::vector<RoleBinding>> held;
  std::thread lister([&] { held = a.ports.access->ListOf(a.person_id()); });
  absl::Cleanup join_lister = [&] { lister.join(); };
  ASSIGN_OR_RETURN(Person person, a.ports.people->Get(a.person_id()));
  if (a.from_schedule) {
    RETURN_IF_ERROR(Applicable(a.event.type(), true, person.status(), a.person_id(), a.life));
  }
  std::move(join_lister).Invoke();
  ASSIGN_OR_RETURN(std::vector<RoleBinding> bindings, std::move(held));
  // Then everything at once, each one synced write (with its audit record)
  // in its own service: the status (identity pushes LEFT to authz before it
  // commits), every binding in one authz commit, the password, the badges.
  // Each of them alone takes the access it covers away, so none has to wait
  // for another: a decision denies from the first of them on.
  const bool already_left = person.status() == iam::v1::PERSON_STATUS_LEFT;
  Revision status_revision = person.revision();
  AccessGrants::Removed unbound;
  CredentialRevoker::Result credentials;
  BadgeRevoker::Result badges;
  std::vector<std::function<absl::StatusOr<Revision>()>> steps;
  if (!already_left) {
    steps.push_back([&]() -> absl::StatusOr<Revision> {
      Person change;
      change.set_id(person.id());
      change.set_status(iam::v1::PERSON_STATUS_LEFT);
      ASSIGN_OR_RETURN(auto updated, a.ports.people->Update(change, {"status"}, a.reason));
      person = updated.first;
      status_revision = updated.second;
      return updated.second;
    });
  }
  steps.push_back([&]() -> absl::StatusOr<Revision> {
    ASSIGN_OR_RETURN(unbound, a.ports.access->UnbindAllOf(a.person_id(), a.reason));
    return unbound.revision;
  });
  if (a.ports.credentials != nullptr) {
    steps.push_back([&]() -> absl::StatusOr<Revision> {
      ASSIGN_OR_RETURN(credentials, a.ports.credentials->Revoke(a.person_id(), a.reason));
      return credentials.revision;
    });
  }
  if (a.ports.badges != nullptr) {
    steps.push_back([&]() -> absl::StatusOr<Revision> {
      ASSIGN_OR_RETURN(badges, a.ports.badges->RevokeAll(a.person_id(), a.reason));
      return badges.revision;
    });
  }
  RETURN_IF_ERROR(a.RunAtOnce(steps));
  a.result().set_status_revision(status_revision);
  a.Step(already_left ? std::string("status was already left")
                      : absl::StrCat("status left at revision ", status_revision,
                                     ": every decision denies from here"));
  std::map<std::string, Grant> recorded;
  for (const Grant& g : a.life.grants()) recorded[g.binding_id()] = g;
  std::set<std::string> listed;
  auto report = [&](const std::string& id, const RoleBinding* b) {
    Grant g;
    auto it = recorded.find(id);
    if (it != recorded.end()) {
      g = it->second;
    } else {
      g.set_origin(iam::v1::GRANT_ORIGIN_MANUAL);
      g.set_binding_id(id);
      if (b != nullptr) {
        g.set_role(b->role());
        g.set_scope(b->scope());
        g.set_reason(b->reason());
      }
    }
    g.set_state(iam::v1::GRANT_STATE_ACTIVE);
    *a.result().add_removed() = g;
  };
  for (const RoleBinding& b : bindings) {
    listed.insert(b.id());
    report(b.id(), &b);
  }
  // Made after the listing (by someone else) and removed all the same.
  for (const std::string& id : unbound.binding_ids) {
    if (listed.count(id) == 0) report(id, nullptr);
  }
  for (const Grant& g : a.life.grants()) {
    if (g.state() != iam::v1::GRANT_STATE_ACTIVE) *a.result().add_removed() = g;
  }
  if (unbound.binding_ids.empty()) {
    a.Step("had no binding to remove");
  } else if (a.dry_run) {
    a.Step(absl::StrCat("would remove ", unbound.binding_ids.size(), " binding(s)"));
  } else {
    a.Step(absl::StrCat("removed ", unbound.binding_ids.size(),
                        " binding(s) in one commit at revision ", unbound.revision));
  }
  if (a.ports.credentials == nullptr) {
    a.Step("no password service is deployed: no password to revoke");
  } else {
    a.result().set_credentials_revoked(credentials.revoked);
    a.Step(a.dry_run ? "password would be revoked"
                     : credentials.revoked ? "password revoked" : "had no password");
  }
  if (a.ports.badges == nullptr) {
    a.Step("no badge service is deployed: no badge to revoke");
  } else {
    for (const std::string& id : badges.badge_ids) a.result().add_badges(id);
    a.Step(a.dry_run ? "every badge would be revoked"
                     : badges.badge_ids.empty()
                           ? "had no badge to revoke"
                           : absl::StrCat("revoked badge(s) ",
                                          absl::StrJoin(badges.badge_ids, ", ")));
  }
  a.life.clear_grants();
  a.life.clear_to_review();
  a.life.clear_suspended_badges();
  // Later events of a leaver can never apply: cancel them.
  for (const std::string& id : a.life.scheduled_event_ids()) {
    if (id == a.event.result().event_id()) continue;
    absl::StatusOr<StoredEvent> s = records_.GetEvent(id);
    if (!s.ok()) continue;
    s->mutable_result()->set_state(iam::v1::HR_EVENT_STATE_FAILED);
    s->mutable_result()->set_error(absl::StrCat(
        "cancelled: person left in event '", a.event.result().event_id(), "'"));
    a.Step(absl::StrCat("cancelled scheduled event ", id));
    a.cancelled.push_back(*std::move(s));
  }
  a.life.clear_scheduled_event_ids();
  a.AddHistory(person);
  return absl::OkStatus();
}

absl::Status Lifecycle::StepsSuspend(Attempt& a) {
  ASSIGN_OR_RETURN(Person person, a.ports.people->Get(a.person_id()));
  if (a.from_schedule) {
    RETURN_IF_ERROR(Applicable(a.event.type(), true, person.status(), a.person_id(), a.life));
  }
  // Record every binding as dormant before anything is removed, so that a
  // crash part way still knows what Reinstate must restore.
  auto record_dormant = [&](const std::vector<RoleBinding>& bindings) -> absl::Status {
    std::map<std::string, int> by_id;
    for (int i = 0; i < a.life.grants_size(); ++i) by_id[a.life.grants(i).binding_id()] = i;
    bool changed = false;
    for (const RoleBinding& b : bindings) {
      auto it = by_id.find(b.id());
      Grant* g;
      if (it != by_id.end()) {
        g = a.life.mutable_grants(it->second);
        if (g->state() == iam::v1::GRANT_STATE_DORMANT) continue;
      } else {
        g = a.life.add_grants();
        g->set_origin(iam::v1::GRANT_ORIGIN_MANUAL);
        g->set_role(b.role());
        g->set_scope(b.scope());
        g->set_binding_id(b.id());
      }
      g->set_state(iam::v1::GRANT_STATE_DORMANT);
      g->set_expires_at_unix(b.expires_at_unix());
      g->set_reason(b.reason());
      changed = true;
    }
    if ((!changed && !a.unsaved) || a.dry_run) return absl::OkStatus();
    WriteBatch batch;
    LifecycleStore::PutPerson(a.life, &batch);
    LifecycleStore::PutEvent(a.event, &batch);
    ASSIGN_OR_RETURN(Revision r, store_->Commit(batch));
    a.unsaved = false;
    a.Saw(r);
    return absl::OkStatus();
  };
  ASSIGN_OR_RETURN(std::vector<RoleBinding> before, a.ports.access->ListOf(a.person_id()));
  RETURN_IF_ERROR(record_dormant(before));
  if (person.status() != iam::v1::PERSON_STATUS_SUSPENDED) {
    Person change;
    change.set_id(person.id());
    change.set_status(iam::v1::PERSON_STATUS_SUSPENDED);
    ASSIGN_OR_RETURN(auto updated, a.ports.people->Update(change, {"status"}, a.reason));
    ++a.effects;
    a.Saw(updated.second);
    person = updated.first;
    a.result().set_status_revision(updated.second);
    a.Step(absl::StrCat("status suspended at revision ", updated.second,
                        ": every decision denies from here"));
  }
  // Listed again after the status change (normally the same bindings, so
  // nothing more to commit), then all removed in one authz commit while the
  // badges are suspended.
  ASSIGN_OR_RETURN(std::vector<RoleBinding> bindings, a.ports.access->ListOf(a.person_id()));
  RETURN_IF_ERROR(record_dormant(bindings));
  AccessGrants::Removed unbound;
  BadgeRevoker::Result badges;
  std::vector<std::function<absl::StatusOr<Revision>()>> steps;
  steps.push_back([&]() -> absl::StatusOr<Revision> {
    ASSIGN_OR_RETURN(unbound, a.ports.access->UnbindAllOf(a.person_id(), a.reason));
    return unbound.revision;
  });
  if (a.ports.badges != nullptr) {
    steps.push_back([&]() -> absl::StatusOr<Revision> {
      ASSIGN_OR_RETURN(badges, a.ports.badges->SuspendAll(a.person_id(), a.reason));
      return badges.revision;
    });
  }
  RETURN_IF_ERROR(a.RunAtOnce(steps));
  std::set<std::string> dormant;
  for (const Grant& g : a.life.grants()) {
    if (g.state() != iam::v1::GRANT_STATE_DORMANT) continue;
    dormant.insert(g.binding_id());
    *a.result().add_removed() = g;
  }
  for (const std::string& id : unbound.binding_ids) {
    if (dormant.count(id) != 0) continue;
    // Created by someone else between the listing and the removal: gone,
    // and unknown to Reinstate.
    a.Step(absl::StrCat("removed binding ", id,
                        ", made while the suspension ran; Reinstate does not restore it"));
  }
  a.Step(absl::StrCat("made ", bindings.size(), " binding(s) dormant"));
  for (const std::string& id : badges.badge_ids) {
    a.result().add_badges(id);
    a.life.add_suspended_badges(id);
  }
  if (a.ports.badges == nullptr) {
    a.Step("no badge service is deployed: no badge to suspend");
  } else {
    a.Step(a.dry_run ? "every active badge would be suspended"
                     : badges.badge_ids.empty()
                           ? "had no active badge"
                           : absl::StrCat("suspended badge(s) ",
                                          absl::StrJoin(badges.badge_ids, ", ")));
  }
  a.Step("the password is kept; logins are refused while suspended");
  a.AddHistory(person);
  return absl::OkStatus();
}

absl::Status Lifecycle::StepsReinstate(Attempt& a) {
  ASSIGN_OR_RETURN(Person person, a.ports.people->Get(a.person_id()));
  if (a.from_schedule) {
    RETURN_IF_ERROR(Applicable(a.event.type(), true, person.status(), a.person_id(), a.life));
  }
  ASSIGN_OR_RETURN(std::vector<RoleBinding> existing, a.ports.access->ListOf(a.person_id()));
  std::set<std::string> taken;
  std::vector<Grant> keep;
  const int64_t now = absl::ToUnixSeconds(a.now);
  for (const Grant& dormant : a.life.grants()) {
    if (dormant.state() != iam::v1::GRANT_STATE_DORMANT) {
      keep.push_back(dormant);
      continue;
    }
    Grant g = dormant;
    if (g.expires_at_unix() != 0 && g.expires_at_unix() <= now) {
      a.Step(absl::StrCat("not restored ", GrantText(g), ": it expired while suspended"));
      *a.result().add_removed() = g;
      continue;
    }
    const std::string old_id = g.binding_id();
    if (const RoleBinding* b = Adoptable(existing, a.event.result().event_id(),
                                         g.role(), g.scope(), taken)) {
      g.set_binding_id(b->id());
    } else {
      std::string reason = absl::StrCat(a.reason, " (reinstated, was ", old_id, ": ",
                                        dormant.reason(), ")");
      ASSIGN_OR_RETURN(auto made, a.ports.access->Bind(BindingFor(
                                      a.person_id(), g.role(), g.scope(),
                                      g.expires_at_unix(), reason)));
      ++a.effects;
      a.Saw(made.second);
      g.set_binding_id(made.first.id());
    }
    taken.insert(g.binding_id());
    g.set_state(iam::v1::GRANT_STATE_ACTIVE);
    g.set_event_id(a.event.result().event_id());
    a.Step(absl::StrCat("restored ", GrantText(g), " (was ", old_id, ")"));
    *a.result().add_granted() = g;
    // Manual grants live only in authz again; birthright ones stay recorded.
    if (g.origin() == iam::v1::GRANT_ORIGIN_BIRTHRIGHT) keep.push_back(g);
  }
  a.life.clear_grants();
  for (Grant& g : keep) *a.life.add_grants() = std::move(g);
  if (a.ports.badges != nullptr) {
    std::vector<std::string> still;
    for (const std::string& id : a.life.suspended_badges()) {
      absl::StatusOr<Revision> resumed = a.ports.badges->Resume(id, a.reason);
      if (absl::IsFailedPrecondition(resumed.status()) ||
          absl::IsNotFound(resumed.status())) {
        a.Step(absl::StrCat("badge ", id, " not resumed: ", resumed.status().message()));
        continue;
      }
      if (!resumed.ok()) return resumed.status();
      ++a.effects;
      a.Saw(*resumed);
      a.result().add_badges(id);
      a.Step(absl::StrCat("resumed badge ", id));
    }
    a.life.clear_suspended_badges();
  }
  ASSIGN_OR_RETURN(std::vector<Grant> granted,
                   GrantPendingLocked(person, &a.life, a.ports.people, a.ports.access));
  for (Grant& g : granted) {
    a.Step(absl::StrCat("granted ", GrantText(g), ": its prerequisites are now recorded"));
    *a.result().add_granted() = std::move(g);
    ++a.effects;
  }
  if (person.status() != iam::v1::PERSON_STATUS_ACTIVE) {
    Person change;
    change.set_id(person.id());
    change.set_status(iam::v1::PERSON_STATUS_ACTIVE);
    ASSIGN_OR_RETURN(auto updated, a.ports.people->Update(change, {"status"}, a.reason));
    ++a.effects;
    a.Saw(updated.second);
    person = updated.first;
    a.result().set_status_revision(updated.second);
    a.Step(absl::StrCat("status active at revision ", updated.second));
  }
  a.AddHistory(person);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Grant>> Lifecycle::GrantPendingLocked(
    const Person& person, PersonLifecycle* life, PersonDirectory*,
    AccessGrants* access) {
  std::vector<Grant> granted;
  for (Grant& g : *life->mutable_grants()) {
    if (g.state() != iam::v1::GRANT_STATE_PENDING_PREREQUISITE) continue;
    std::vector<iam::v1::Prerequisite> needed;
    for (int m : g.missing()) needed.push_back(static_cast<iam::v1::Prerequisite>(m));
    std::vector<iam::v1::Prerequisite> missing = MissingPrerequisites(needed, person);
    g.clear_missing();
    for (auto m : missing) g.add_missing(m);
    if (!missing.empty()) continue;
    ASSIGN_OR_RETURN(auto made,
                     access->Bind(BindingFor(
                         person.id(), g.role(), g.scope(), 0,
                         absl::StrCat(EventTag(g.event_id()),
                                      " prerequisites recorded (birthright rule ",
                                      g.rule(), ")"))));
    g.set_state(iam::v1::GRANT_STATE_ACTIVE);
    g.set_binding_id(made.first.id());
    g.set_reason(made.first.reason());
    granted.push_back(g);
  }
  return granted;
}

absl::Status Lifecycle::ApplyDueOfPersonLocked(absl::string_view person_id,
                                               int* applied) {
  ASSIGN_OR_RETURN(PersonLifecycle life, records_.GetPerson(person_id));
  const int64_t now = absl::ToUnixSeconds(clock_->Now());
  std::vector<StoredEvent> due;
  for (const std::string& id : life.scheduled_event_ids()) {
    absl::StatusOr<StoredEvent> found = records_.GetEvent(id);
    if (absl::IsNotFound(found.status())) continue;
    if (!found.ok()) return found.status();
    StoredEvent& e = *found;
    if (e.result().effective_at_unix() <= now &&
        (e.result().state() == iam::v1::HR_EVENT_STATE_SCHEDULED ||
         e.result().state() == iam::v1::HR_EVENT_STATE_APPLYING)) {
      due.push_back(std::move(e));
    }
  }
  std::sort(due.begin(), due.end(), [](const StoredEvent& a, const StoredEvent& b) {
    if (a.result().effective_at_unix() != b.result().effective_at_unix()) {
      return a.result().effective_at_unix() < b.result().effective_at_unix();
    }
    return a.result().event_id() < b.result().event_id();
  });
  for (StoredEvent& e : due) {
    // An earlier event of this run (a Leave) may have cancelled it.
    ASSIGN_OR_RETURN(StoredEvent current, records_.GetEvent(e.result().event_id()));
    if (current.result().state() != iam::v1::HR_EVENT_STATE_SCHEDULED &&
        current.result().state() != iam::v1::HR_EVENT_STATE_APPLYING) {
      continue;
    }
    absl::StatusOr<HrEventResult> r = Run(std::move(current), /*dry_run=*/false);
    if (r.ok() || !absl::IsUnavailable(r.status())) {
      ++*applied;
      continue;
    }
    return r.status();  // later events of this person wait for this one
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Lifecycle::ApplyDue() {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, records_.DueEvents(clock_->Now()));
  std::set<std::string> done;
  int applied = 0;
  absl::Status first_error;
  for (const std::string& id : ids) {
    absl::StatusOr<StoredEvent> e = records_.GetEvent(id);
    if (!e.ok()) {
      if (first_error.ok()) first_error = e.status();
      continue;
    }
    const std::string person = e->result().person_id();
    if (!done.insert(person).second) continue;
    absl::MutexLock lock(&LockFor(person));
    absl::Status s = ApplyDueOfPersonLocked(person, &applied);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) return first_error;
  return applied;
}

absl::optional<absl::Time> Lifecycle::NextDue() const {
  absl::StatusOr<absl::optional<absl::Time>> next = records_.NextDue();
  if (!next.ok()) return clock_->Now();  // try again soon
  return *next;
}

absl::Status Lifecycle::ResolvePending() {
  ASSIGN_OR_RETURN(std::vector<std::string> people, records_.PeopleWithPending());
  absl::Status first_error;
  for (const std::string& id : people) {
    absl::MutexLock lock(&LockFor(id));
    absl::StatusOr<Person> person = services_.people->Get(id);
    if (!person.ok()) {
      if (first_error.ok()) first_error = person.status();
      continue;
    }
    if (person->status() != iam::v1::PERSON_STATUS_ACTIVE &&
        person->status() != iam::v1::PERSON_STATUS_PENDING) {
      continue;  // suspended: Reinstate looks again; left: nothing pending
    }
    absl::StatusOr<PersonLifecycle> life = records_.GetPerson(id);
    if (!life.ok()) return life.status();
    const std::string before = life->SerializeAsString();
    absl::StatusOr<std::vector<Grant>> granted =
        GrantPendingLocked(*person, &*life, services_.people, services_.access);
    if (!granted.ok()) {
      if (first_error.ok()) first_error = granted.status();
      continue;
    }
    if (life->SerializeAsString() == before) continue;
    WriteBatch batch;
    LifecycleStore::PutPerson(*life, &batch);
    absl::StatusOr<Revision> r = store_->Commit(batch);
    if (!r.ok()) return r.status();
    if (granted->empty()) continue;
    std::vector<std::string> texts;
    for (const Grant& g : *granted) texts.push_back(GrantText(g));
    iam::v1::AuditRecord record;
    record.set_caller("lifecycle");
    record.set_action("lifecycle.grant.prerequisites_met");
    record.set_target(id);
    record.set_person_id(id);
    record.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
    record.set_reason(absl::StrCat("pending birthright granted: ",
                                   absl::StrJoin(texts, "; ")));
    record.set_revision(*r);
    RETURN_IF_ERROR(audit_log_->Append(std::move(record)).status());
  }
  return first_error;
}

absl::StatusOr<iam::v1::AttestationResult> Lifecycle::RecordAttestation(
    const iam::v1::RecordAttestationRequest& request, absl::string_view caller) {
  if (request.person_id().empty()) {
    return absl::InvalidArgumentError("person_id is required");
  }
  if (request.type() == iam::v1::ATTESTATION_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "type is required: ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED or "
        "ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED");
  }
  absl::MutexLock lock(&LockFor(request.person_id()));
  ASSIGN_OR_RETURN(auto recorded,
                   services_.people->RecordAttestation(
                       request.person_id(), request.type(),
                       absl::StrCat("recorded through lifecycle by ", caller, ": ",
                                    request.reason())));
  iam::v1::AttestationResult out;
  *out.mutable_person() = recorded.first;
  out.set_revision(recorded.second);
  ASSIGN_OR_RETURN(PersonLifecycle life, records_.GetPerson(request.person_id()));
  const PersonStatus status = recorded.first.status();
  if (status == iam::v1::PERSON_STATUS_ACTIVE || status == iam::v1::PERSON_STATUS_PENDING) {
    const std::string before = life.SerializeAsString();
    ASSIGN_OR_RETURN(std::vector<Grant> granted,
                     GrantPendingLocked(recorded.first, &life, services_.people,
                                        services_.access));
    Revision r = 0;
    if (life.SerializeAsString() != before) {
      // Grants made, or fewer prerequisites missing.
      WriteBatch batch;
      LifecycleStore::PutPerson(life, &batch);
      ASSIGN_OR_RETURN(r, store_->Commit(batch));
      out.set_revision(std::max<Revision>(out.revision(), r));
    }
    if (!granted.empty()) {
      std::vector<std::string> texts;
      for (const Grant& g : granted) texts.push_back(GrantText(g));
      iam::v1::AuditRecord record;
      record.set_caller(std::string(caller));
      record.set_action("lifecycle.grant.prerequisites_met");
      record.set_target(request.person_id());
      record.set_person_id(request.person_id());
      record.set_outcome(iam::v1::AUDIT_OUTCOME_SUCCESS);
      record.set_reason(absl::StrCat("pending birthright granted: ",
                                     absl::StrJoin(texts, "; ")));
      record.set_revision(r);
      RETURN_IF_ERROR(audit_log_->Append(std::move(record)).status());
    }
    for (Grant& g : granted) *out.add_granted() = std::move(g);
  }
  for (const Grant& g : life.grants()) {
    if (g.state() == iam::v1::GRANT_STATE_PENDING_PREREQUISITE) *out.add_pending() = g;
  }
  return out;
}

absl::StatusOr<HrEventResult> Lifecycle::GetEvent(absl::string_view event_id) const {
  absl::StatusOr<StoredEvent> e = records_.GetEvent(event_id);
  if (absl::IsNotFound(e.status())) {
    return absl::NotFoundError(absl::StrCat("no HR event with id '", event_id, "'"));
  }
  if (!e.ok()) return e.status();
  return e->result();
}

absl::StatusOr<iam::v1::GetPersonHistoryResponse> Lifecycle::History(
    absl::string_view person_id) {
  iam::v1::GetPersonHistoryResponse out;
  absl::StatusOr<Person> person = services_.people->Get(person_id);
  if (absl::IsNotFound(person.status())) {
    return absl::NotFoundError(absl::StrCat("unknown person '", person_id, "'"));
  }
  if (!person.ok()) return person.status();
  *out.mutable_person() = *person;
  ASSIGN_OR_RETURN(PersonLifecycle life, records_.GetPerson(person_id));
  ASSIGN_OR_RETURN(std::vector<RoleBinding> bindings,
                   services_.access->ListOf(person_id));
  std::map<std::string, const Grant*> recorded;
  for (const Grant& g : life.grants()) {
    if (g.state() == iam::v1::GRANT_STATE_ACTIVE) recorded[g.binding_id()] = &g;
  }
  for (const RoleBinding& b : bindings) {
    Grant* g = out.add_grants();
    auto it = recorded.find(b.id());
    if (it != recorded.end()) {
      *g = *it->second;
    } else {
      g->set_origin(iam::v1::GRANT_ORIGIN_MANUAL);
      g->set_role(b.role());
      g->set_scope(b.scope());
      g->set_binding_id(b.id());
    }
    g->set_state(iam::v1::GRANT_STATE_ACTIVE);
    g->set_expires_at_unix(b.expires_at_unix());
    g->set_reason(b.reason());
  }
  for (const Grant& g : life.grants()) {
    if (g.state() != iam::v1::GRANT_STATE_ACTIVE) *out.add_grants() = g;
  }
  std::vector<HrEventResult> scheduled;
  for (const std::string& id : life.scheduled_event_ids()) {
    absl::StatusOr<StoredEvent> e = records_.GetEvent(id);
    if (e.ok()) scheduled.push_back(e->result());
  }
  std::sort(scheduled.begin(), scheduled.end(), [](const auto& a, const auto& b) {
    return a.effective_at_unix() < b.effective_at_unix();
  });
  for (auto& s : scheduled) *out.add_scheduled() = std::move(s);
  *out.mutable_lifecycle() = std::move(life);
  return out;
}

absl::Status Lifecycle::Audit(const StoredEvent& event, absl::string_view action,
                              const absl::Status& outcome) {
  absl::StatusOr<int64_t> appended =
      audit_log_->Append(AuditRecordOf(event, action, outcome));
  if (!appended.ok()) return AuditFailed(event, appended.status());
  return absl::OkStatus();
}

}  // namespace iam::lifecycle
