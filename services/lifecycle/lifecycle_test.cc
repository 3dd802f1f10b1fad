#include "services/lifecycle/lifecycle.h"

#include <memory>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/audit/audit_log.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"
#include "services/lifecycle/fake_ports.h"
#include "services/lifecycle/lifecycle_store.h"

namespace iam::lifecycle {
namespace {

using iam::v1::HrEventResult;

constexpr char kPolicy[] = R"pb(
  roles { name: "line_operator" }
  roles { name: "line_lead" }
  roles { name: "burning_technician" }
  roles { name: "auditor" }
  roles { name: "tooling" }
  scopes { path: "site/sz" }
  scopes { path: "site/sz/area/burning" }
  org_units { path: "ou/production" }
  org_units { path: "ou/production/smt" }
  job_codes { code: "LINE_OPERATOR" }
  job_codes { code: "LINE_LEAD" }
  job_codes { code: "BURNING_TECHNICIAN" }
  birthright_rules {
    name: "operator"
    org_unit: "ou/production"
    job_code: "LINE_OPERATOR"
    grants { role: "line_operator" scope: "site/{site}" }
  }
  birthright_rules {
    name: "lead"
    org_unit: "ou/production"
    job_code: "LINE_LEAD"
    grants { role: "line_lead" scope: "site/{site}" }
    grants { role: "line_operator" scope: "site/{site}" }
  }
  birthright_rules {
    name: "burning"
    org_unit: "ou/production"
    job_code: "BURNING_TECHNICIAN"
    grants { role: "burning_technician" scope: "site/sz/area/burning" }
  }
  portable_roles: "auditor"
  scope_prerequisites {
    scope: "site/sz/area/burning"
    requires: PREREQUISITE_SECURITY_AGREEMENT_SIGNED
    requires: PREREQUISITE_BACKGROUND_CHECK_PASSED
  }
)pb";

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    iam::v1::PolicyDocument doc;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kPolicy, &doc));
    auto policy = BirthrightPolicy::FromDocument(doc);
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *policy;
    auto log = audit::StoreAuditLog::Open(&store_, &clock_);
    ASSERT_TRUE(log.ok()) << log.status();
    audit_ = std::move(*log);
    lifecycle_ = std::make_unique<Lifecycle>(
        &store_, &clock_, &policy_, Services{&fake_, &fake_, &fake_, &fake_},
        audit_.get());
  }

  static iam::v1::HrEvent Event(const std::string& id, const std::string& person,
                                const std::string& at = "") {
    iam::v1::HrEvent e;
    e.set_event_id(id);
    e.set_person_id(person);
    e.set_effective_at(at);
    e.set_reason("HR-ticket");
    return e;
  }

  absl::StatusOr<HrEventResult> Hire(const std::string& id, const std::string& person,
                                     const std::string& job = "LINE_OPERATOR",
                                     const std::string& at = "") {
    iam::v1::HireRequest r;
    *r.mutable_event() = Event(id, person, at);
    r.set_display_name("Li Wei");
    r.set_org_unit("ou/production/smt");
    r.set_job_code(job);
    r.set_site("sz");
    return lifecycle_->Hire(r, "hr-system");
  }
  absl::StatusOr<HrEventResult> Leave(const std::string& id, const std::string& person,
                                      const std::string& at = "") {
    iam::v1::LeaveRequest r;
    *r.mutable_event() = Event(id, person, at);
    return lifecycle_->Leave(r, "hr-system");
  }
  absl::StatusOr<HrEventResult> MoveTo(const std::string& id, const std::string& person,
                                       const std::string& job, const std::string& at = "") {
    iam::v1::MoveRequest r;
    *r.mutable_event() = Event(id, person, at);
    r.set_job_code(job);
    return lifecycle_->Move(r, "hr-system");
  }
  std::string ManualBind(const std::string& person, const std::string& role) {
    iam::v1::RoleBinding b;
    b.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
    b.mutable_subject()->set_id(person);
    b.set_role(role);
    b.set_scope("site/sz");
    b.set_reason("CHG-1 by hand");
    auto made = fake_.Bind(b);
    EXPECT_TRUE(made.ok());
    return made->first.id();
  }
  int Bindings(const std::string& person) { return fake_.ListOf(person)->size(); }
  iam::v1::PersonStatus StatusOf(const std::string& person) {
    return fake_.Get(person)->status();
  }
  std::vector<iam::v1::AuditRecord> AuditOf(const std::string& person) {
    EXPECT_TRUE(audit_->Flush().ok());
    iam::v1::QueryAuditRequest q;
    q.set_person_id(person);
    q.set_page_size(1000);
    auto r = audit_->Query(q);
    EXPECT_TRUE(r.ok()) << r.status();
    return {r->records().begin(), r->records().end()};
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1780000000)};  // 2026-05-28T20:26:40Z
  BirthrightPolicy policy_;
  FakeServices fake_;
  std::unique_ptr<audit::StoreAuditLog> audit_;
  std::unique_ptr<Lifecycle> lifecycle_;
};

TEST_F(LifecycleTest, HireGrantsBirthrightThenActivates) {
  auto r = Hire("e-1", "p-1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  ASSERT_EQ(r->granted_size(), 1);
  EXPECT_EQ(r->granted(0).role(), "line_operator");
  EXPECT_EQ(r->granted(0).scope(), "site/sz");
  EXPECT_EQ(r->granted(0).rule(), "operator");
  EXPECT_TRUE(fake_.Allows("p-1", "line_operator", "site/sz"));
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_ACTIVE);
  // Activation is the last write: the binding came before it.
  EXPECT_GT(r->status_revision(), 0);
  EXPECT_EQ(fake_.Get("p-1")->revision(), r->status_revision());
  for (const std::string& reason : fake_.reasons()) {
    EXPECT_EQ(reason.rfind("HR e-1:", 0), 0u) << reason;
  }
}

TEST_F(LifecycleTest, RepeatedEventIdReturnsTheFirstResult) {
  auto first = Hire("e-1", "p-1");
  ASSERT_TRUE(first.ok());
  const Revision before = fake_.revision();
  auto again = Hire("e-1", "p-1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->revision(), first->revision());
  EXPECT_EQ(again->granted_size(), first->granted_size());
  EXPECT_EQ(fake_.revision(), before);  // nothing applied twice
  auto different = Hire("e-1", "p-2");
  EXPECT_EQ(different.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(LifecycleTest, LeaveRemovesEveryBindingPasswordAndBadgeAndIsAudited) {
  ASSERT_TRUE(Hire("e-1", "p-1", "LINE_LEAD").ok());
  ManualBind("p-1", "tooling");
  fake_.SetPassword("p-1");
  std::string badge = fake_.IssueBadge("p-1");
  ASSERT_EQ(Bindings("p-1"), 3);

  auto r = Leave("e-2", "p-1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_LEFT);
  EXPECT_EQ(Bindings("p-1"), 0);
  EXPECT_EQ(r->removed_size(), 3);
  EXPECT_FALSE(fake_.HasPassword("p-1"));
  EXPECT_TRUE(r->credentials_revoked());
  EXPECT_EQ(fake_.BadgeState(badge), "revoked");
  ASSERT_EQ(r->badges_size(), 1);
  EXPECT_GT(r->revision(), r->status_revision());
  // Every binding in one call (one commit in authz), none one by one.
  EXPECT_EQ(fake_.calls("UnbindAllOf"), 1);
  EXPECT_EQ(fake_.calls("Unbind"), 0);
  int birthright = 0, manual = 0;
  for (const auto& g : r->removed()) {
    EXPECT_FALSE(g.binding_id().empty());
    EXPECT_FALSE(g.role().empty());
    if (g.origin() == iam::v1::GRANT_ORIGIN_BIRTHRIGHT) ++birthright;
    if (g.origin() == iam::v1::GRANT_ORIGIN_MANUAL) ++manual;
  }
  EXPECT_EQ(birthright, 2);
  EXPECT_EQ(manual, 1);

  bool found = false;
  for (const auto& rec : AuditOf("p-1")) {
    if (rec.action() == "lifecycle.leave") {
      found = true;
      EXPECT_EQ(rec.target(), "e-2");
      EXPECT_NE(rec.reason().find("HR e-2:"), std::string::npos);
      EXPECT_NE(rec.reason().find("password revoked"), std::string::npos) << rec.reason();
    }
  }
  EXPECT_TRUE(found);

  // A leaver gets no further events.
  auto after = MoveTo("e-3", "p-1", "LINE_OPERATOR");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(after.status().message().find("has left"), std::string::npos);
  EXPECT_EQ(Leave("e-4", "p-1").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LifecycleTest, InterruptedLeaveDeniesAtOnceAndResumesOnRetry) {
  ASSERT_TRUE(Hire("e-1", "p-1", "LINE_LEAD").ok());
  fake_.FailNext("UnbindAllOf", 1);
  auto r = Leave("e-2", "p-1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("applied part way"), std::string::npos);
  // The status changed alongside the failed unbinding: nothing is allowed
  // any more.
  EXPECT_FALSE(fake_.Allows("p-1", "line_lead", "site/sz"));
  auto stored = lifecycle_->GetEvent("e-2");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state(), iam::v1::HR_EVENT_STATE_APPLYING);

  auto retry = Leave("e-2", "p-1");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  EXPECT_EQ(Bindings("p-1"), 0);
}

TEST_F(LifecycleTest, LeaveOfSomeoneWithoutBindingsChangesNoBindingAndIsRetriedAsAReplay) {
  ASSERT_TRUE(Hire("e-1", "p-1", "LINE_OPERATOR").ok());
  ASSERT_EQ(Bindings("p-1"), 1);
  // The one binding goes by hand first: the Leave finds none to remove.
  ASSERT_TRUE(fake_.UnbindAllOf("p-1", "CHG-2 by hand").ok());
  auto r = Leave("e-2", "p-1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  EXPECT_EQ(r->removed_size(), 0);
  bool said = false;
  for (const auto& step : r->steps()) said = said || step == "had no binding to remove";
  EXPECT_TRUE(said);
  const Revision before = fake_.revision();
  auto again = Leave("e-2", "p-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(fake_.revision(), before);
}

TEST_F(LifecycleTest, InterruptedSuspendKeepsDormantGrantsAndResumes) {
  ASSERT_TRUE(Hire("e-1", "p-1", "LINE_LEAD").ok());
  ManualBind("p-1", "tooling");
  fake_.FailNext("UnbindAllOf", 1);
  iam::v1::SuspendRequest s;
  *s.mutable_event() = Event("e-2", "p-1");
  auto first = lifecycle_->Suspend(s, "hr");
  EXPECT_EQ(first.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_SUSPENDED);
  // The grants were recorded dormant (with the APPLYING record, in one
  // commit) before the status changed, so nothing is forgotten.
  auto history = lifecycle_->History("p-1");
  ASSERT_TRUE(history.ok());
  int dormant = 0;
  for (const auto& g : history->lifecycle().grants()) {
    if (g.state() == iam::v1::GRANT_STATE_DORMANT) ++dormant;
  }
  EXPECT_EQ(dormant, 3);
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_APPLYING);

  auto applied = lifecycle_->ApplyDue();
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  EXPECT_EQ(Bindings("p-1"), 0);

  iam::v1::ReinstateRequest back;
  *back.mutable_event() = Event("e-3", "p-1");
  auto reinstated = lifecycle_->Reinstate(back, "hr");
  ASSERT_TRUE(reinstated.ok()) << reinstated.status();
  EXPECT_EQ(reinstated->granted_size(), 3);
  EXPECT_TRUE(fake_.Allows("p-1", "tooling", "site/sz"));
}

TEST_F(LifecycleTest, SuspendThatCannotListBindingsLeavesNothingBehind) {
  ASSERT_TRUE(Hire("e-1", "p-1", "LINE_LEAD").ok());
  fake_.FailNext("ListOf", 1);
  iam::v1::SuspendRequest s;
  *s.mutable_event() = Event("e-2", "p-1");
  EXPECT_EQ(lifecycle_->Suspend(s, "hr").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_ACTIVE);
  EXPECT_EQ(Bindings("p-1"), 2);
  // Forgotten, not queued: HR may send it again under the same id.
  EXPECT_EQ(lifecycle_->GetEvent("e-2").status().code(), absl::StatusCode::kNotFound);
  auto again = lifecycle_->Suspend(s, "hr");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_SUSPENDED);
}

TEST_F(LifecycleTest, InterruptedLeaveIsResumedByTheScheduler) {
  ASSERT_TRUE(Hire("e-1", "p-1").ok());
  fake_.FailNext("RevokeAll", 1);
  EXPECT_FALSE(Leave("e-2", "p-1").ok());
  auto applied = lifecycle_->ApplyDue();
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 1);
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_APPLIED);
}

TEST_F(LifecycleTest, BadInputChangesNothing) {
  iam::v1::HireRequest bad;
  *bad.mutable_event() = Event("e-1", "p-1");
  bad.set_display_name("X");
  bad.set_org_unit("ou/sales");
  bad.set_job_code("LINE_OPERATOR");
  bad.set_site("sz");
  auto r = lifecycle_->Hire(bad, "hr");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("unknown org unit"), std::string::npos);
  bad.set_org_unit("ou/production");
  bad.set_job_code("CEO");
  EXPECT_EQ(lifecycle_->Hire(bad, "hr").status().code(), absl::StatusCode::kInvalidArgument);
  bad.set_job_code("LINE_OPERATOR");
  bad.set_site("bj");
  EXPECT_EQ(lifecycle_->Hire(bad, "hr").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Hire("e-1", "p-1", "LINE_OPERATOR", "2026-07-01T00:00:00").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MoveTo("e-2", "p-404", "LINE_LEAD").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Hire("", "p-1").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_.revision(), 0);
  EXPECT_TRUE(absl::IsNotFound(lifecycle_->GetEvent("e-1").status()));
  EXPECT_TRUE(absl::IsNotFound(lifecycle_->GetEvent("e-2").status()));
  // The same id, corrected, is accepted.
  EXPECT_TRUE(Hire("e-1", "p-1").ok());
}

TEST_F(LifecycleTest, BackwardsEventIsRejected) {
  ASSERT_TRUE(Hire("e-1", "p-1", "LINE_OPERATOR", "2026-05-27T09:00:00+08:00").ok());
  auto r = MoveTo("e-2", "p-1", "LINE_LEAD", "2026-05-26T09:00:00+08:00");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("would apply backwards"), std::string::npos);
  EXPECT_NE(r.status().message().find("e-1"), std::string::npos);
  EXPECT_TRUE(MoveTo("e-3", "p-1", "LINE_LEAD", "2026-05-27T10:00:00+08:00").ok());
}

TEST_F(LifecycleTest, MoveSwapsBirthrightKeepsPortableAndListsOtherManualGrants) {
  iam::v1::Person manager;
  manager.set_id("m-1");
  manager.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  fake_.AddPerson(manager);
  iam::v1::HireRequest h;
  *h.mutable_event() = Event("e-1", "p-1");
  h.set_display_name("Li Wei");
  h.set_org_unit("ou/production");
  h.set_job_code("LINE_LEAD");
  h.set_site("sz");
  h.set_manager_id("m-1");
  ASSERT_TRUE(lifecycle_->Hire(h, "hr").ok());
  std::string auditor = ManualBind("p-1", "auditor");
  std::string tooling = ManualBind("p-1", "tooling");

  auto r = MoveTo("e-2", "p-1", "LINE_OPERATOR");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(fake_.Allows("p-1", "line_lead", "site/sz"));
  EXPECT_TRUE(fake_.Allows("p-1", "line_operator", "site/sz"));
  ASSERT_EQ(r->removed_size(), 1);
  EXPECT_EQ(r->removed(0).role(), "line_lead");
  // line_operator came with both jobs: kept, not re-granted.
  EXPECT_EQ(r->granted_size(), 0);
  ASSERT_EQ(r->to_review_size(), 1);
  EXPECT_EQ(r->to_review(0).binding_id(), tooling);
  EXPECT_EQ(r->reviewer_id(), "m-1");
  EXPECT_TRUE(fake_.Allows("p-1", "auditor", "site/sz"));
  EXPECT_TRUE(fake_.Allows("p-1", "tooling", "site/sz"));

  auto history = lifecycle_->History("p-1");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->lifecycle().history_size(), 2);
  EXPECT_EQ(history->lifecycle().history(1).job_code(), "LINE_OPERATOR");
  int birthright = 0, manual = 0;
  for (const auto& g : history->grants()) {
    if (g.origin() == iam::v1::GRANT_ORIGIN_BIRTHRIGHT) ++birthright;
    if (g.origin() == iam::v1::GRANT_ORIGIN_MANUAL) ++manual;
  }
  EXPECT_EQ(birthright, 1);
  EXPECT_EQ(manual, 2);
  (void)auditor;
}

TEST_F(LifecycleTest, PrerequisitesKeepGrantPendingUntilAttested) {
  auto r = Hire("e-1", "p-1", "BURNING_TECHNICIAN");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->pending_size(), 1);
  EXPECT_EQ(r->pending(0).missing_size(), 2);
  EXPECT_FALSE(fake_.Allows("p-1", "burning_technician", "site/sz/area/burning"));
  auto history = lifecycle_->History("p-1");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->grants_size(), 1);
  EXPECT_EQ(history->grants(0).state(), iam::v1::GRANT_STATE_PENDING_PREREQUISITE);

  iam::v1::RecordAttestationRequest a;
  a.set_person_id("p-1");
  a.set_type(iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED);
  auto first = lifecycle_->RecordAttestation(a, "hr");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->granted_size(), 0);
  ASSERT_EQ(first->pending_size(), 1);
  EXPECT_EQ(first->pending(0).missing_size(), 1);
  // The second attestation goes straight to identity; the pending pass
  // finds it.
  ASSERT_TRUE(fake_.RecordAttestation("p-1", iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED,
                                      "direct")
                  .ok());
  ASSERT_TRUE(lifecycle_->ResolvePending().ok());
  EXPECT_TRUE(fake_.Allows("p-1", "burning_technician", "site/sz/area/burning"));
  history = lifecycle_->History("p-1");
  ASSERT_EQ(history->grants_size(), 1);
  EXPECT_EQ(history->grants(0).state(), iam::v1::GRANT_STATE_ACTIVE);
  EXPECT_EQ(history->grants(0).origin(), iam::v1::GRANT_ORIGIN_BIRTHRIGHT);
}

TEST_F(LifecycleTest, SuspendKeepsBindingsDormantAndReinstateRestoresThem) {
  ASSERT_TRUE(Hire("e-1", "p-1", "LINE_LEAD").ok());
  ManualBind("p-1", "tooling");
  fake_.SetPassword("p-1");
  std::string badge = fake_.IssueBadge("p-1");
  iam::v1::SuspendRequest s;
  *s.mutable_event() = Event("e-2", "p-1");
  auto suspended = lifecycle_->Suspend(s, "hr");
  ASSERT_TRUE(suspended.ok()) << suspended.status();
  EXPECT_EQ(Bindings("p-1"), 0);
  EXPECT_EQ(fake_.calls("UnbindAllOf"), 1);
  EXPECT_EQ(fake_.calls("Unbind"), 0);
  EXPECT_EQ(suspended->removed_size(), 3);
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_SUSPENDED);
  EXPECT_EQ(fake_.BadgeState(badge), "suspended");
  EXPECT_TRUE(fake_.HasPassword("p-1"));
  auto history = lifecycle_->History("p-1");
  int dormant = 0;
  for (const auto& g : history->grants()) {
    if (g.state() == iam::v1::GRANT_STATE_DORMANT) ++dormant;
  }
  EXPECT_EQ(dormant, 3);

  iam::v1::ReinstateRequest back;
  *back.mutable_event() = Event("e-3", "p-1");
  auto reinstated = lifecycle_->Reinstate(back, "hr");
  ASSERT_TRUE(reinstated.ok()) << reinstated.status();
  EXPECT_EQ(reinstated->granted_size(), 3);
  EXPECT_TRUE(fake_.Allows("p-1", "line_lead", "site/sz"));
  EXPECT_TRUE(fake_.Allows("p-1", "tooling", "site/sz"));
  EXPECT_EQ(fake_.BadgeState(badge), "active");
  history = lifecycle_->History("p-1");
  int birthright = 0, manual = 0;
  for (const auto& g : history->grants()) {
    EXPECT_EQ(g.state(), iam::v1::GRANT_STATE_ACTIVE);
    if (g.origin() == iam::v1::GRANT_ORIGIN_BIRTHRIGHT) ++birthright;
    if (g.origin() == iam::v1::GRANT_ORIGIN_MANUAL) ++manual;
  }
  EXPECT_EQ(birthright, 2);
  EXPECT_EQ(manual, 1);
  // Reinstating someone active is refused.
  *back.mutable_event() = Event("e-4", "p-1");
  EXPECT_EQ(lifecycle_->Reinstate(back, "hr").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(LifecycleTest, FutureLeaveIsScheduledAndAppliesWhenDue) {
  ASSERT_TRUE(Hire("e-1", "p-1").ok());
  auto r = Leave("e-2", "p-1", "2026-05-29T06:00:00+08:00");  // in 1h33m
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state(), iam::v1::HR_EVENT_STATE_SCHEDULED);
  EXPECT_TRUE(fake_.Allows("p-1", "line_operator", "site/sz"));
  EXPECT_EQ(lifecycle_->NextDue(), absl::FromUnixSeconds(r->effective_at_unix()));
  // Nothing may follow a scheduled leave.
  EXPECT_EQ(MoveTo("e-3", "p-1", "LINE_LEAD", "2026-05-29T08:00:00+08:00").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A move before it is fine and applies now.
  ASSERT_TRUE(MoveTo("e-4", "p-1", "LINE_LEAD").ok());

  clock_.Set(absl::FromUnixSeconds(r->effective_at_unix() - 1));
  EXPECT_EQ(*lifecycle_->ApplyDue(), 0);
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_ACTIVE);
  clock_.Set(absl::FromUnixSeconds(r->effective_at_unix()));
  EXPECT_EQ(*lifecycle_->ApplyDue(), 1);
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_LEFT);
  EXPECT_EQ(Bindings("p-1"), 0);
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  EXPECT_FALSE(lifecycle_->NextDue().has_value());
}

TEST_F(LifecycleTest, FutureHireCreatesAPendingPersonAndActivatesAtTheStart) {
  auto r = Hire("e-1", "p-1", "LINE_OPERATOR", "2026-06-01T08:00:00+08:00");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state(), iam::v1::HR_EVENT_STATE_SCHEDULED);
  EXPECT_EQ(StatusOf("p-1"), iam::v1::PERSON_STATUS_PENDING);
  EXPECT_EQ(Bindings("p-1"), 0);
  clock_.Set(absl::FromUnixSeconds(r->effective_at_unix()));
  // A new event for the person first applies what is due for them.
  ASSERT_TRUE(MoveTo("e-2", "p-1", "LINE_LEAD").ok());
  EXPECT_EQ(lifecycle_->GetEvent("e-1")->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  EXPECT_TRUE(fake_.Allows("p-1", "line_lead", "site/sz"));
}

TEST_F(LifecycleTest, DryRunShowsThePlanAndChangesNothing) {
  ASSERT_TRUE(Hire("e-1", "p-1", "LINE_LEAD").ok());
  const Revision before = fake_.revision();
  iam::v1::MoveRequest m;
  *m.mutable_event() = Event("e-2", "p-1");
  m.mutable_event()->set_dry_run(true);
  m.set_job_code("LINE_OPERATOR");
  auto r = lifecycle_->Move(m, "hr");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->dry_run());
  EXPECT_EQ(r->removed_size(), 1);
  EXPECT_EQ(fake_.revision(), before);
  EXPECT_TRUE(absl::IsNotFound(lifecycle_->GetEvent("e-2").status()));
  EXPECT_TRUE(fake_.Allows("p-1", "line_lead", "site/sz"));

  iam::v1::HireRequest h;
  *h.mutable_event() = Event("e-3", "p-2");
  h.mutable_event()->set_dry_run(true);
  h.set_display_name("New");
  h.set_org_unit("ou/production");
  h.set_job_code("BURNING_TECHNICIAN");
  h.set_site("sz");
  auto hire = lifecycle_->Hire(h, "hr");
  ASSERT_TRUE(hire.ok()) << hire.status();
  EXPECT_EQ(hire->pending_size(), 1);
  EXPECT_FALSE(fake_.Get("p-2").ok());
}

}  // namespace
}  // namespace iam::lifecycle
