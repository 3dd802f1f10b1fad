#include "services/lifecycle/scheduler.h"

#include <memory>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/audit/audit_log.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"
#include "services/lifecycle/fake_ports.h"

namespace iam::lifecycle {
namespace {

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    iam::v1::PolicyDocument doc;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        R"pb(
          roles { name: "line_operator" }
          scopes { path: "site/sz" }
          org_units { path: "ou/production" }
          job_codes { code: "LINE_OPERATOR" }
          birthright_rules {
            name: "operator"
            org_unit: "ou/production"
            job_code: "LINE_OPERATOR"
            grants { role: "line_operator" scope: "site/sz" }
          }
        )pb",
        &doc));
    policy_ = *BirthrightPolicy::FromDocument(doc);
    audit_ = *audit::StoreAuditLog::Open(&store_, &clock_);
    lifecycle_ = std::make_unique<Lifecycle>(&store_, &clock_, &policy_,
                                             Services{&fake_, &fake_, &fake_, &fake_},
                                             audit_.get());
    iam::v1::HireRequest h;
    h.mutable_event()->set_event_id("e-1");
    h.mutable_event()->set_person_id("p-1");
    h.set_display_name("Li Wei");
    h.set_org_unit("ou/production");
    h.set_job_code("LINE_OPERATOR");
    h.set_site("sz");
    ASSERT_TRUE(lifecycle_->Hire(h, "hr").ok());
  }

  absl::StatusOr<iam::v1::HrEventResult> LeaveAt(const std::string& id,
                                                 absl::Time at) {
    iam::v1::LeaveRequest r;
    r.mutable_event()->set_event_id(id);
    r.mutable_event()->set_person_id("p-1");
    r.mutable_event()->set_effective_at(absl::FormatTime(
        "%Y-%m-%dT%H:%M:%S%Ez", at, absl::FixedTimeZone(8 * 3600)));
    return lifecycle_->Leave(r, "hr");
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1780000000)};
  BirthrightPolicy policy_;
  FakeServices fake_;
  std::unique_ptr<audit::StoreAuditLog> audit_;
  std::unique_ptr<Lifecycle> lifecycle_;
};

TEST_F(SchedulerTest, ThreadAppliesAnEventAtItsSecondWithAFakeClock) {
  const absl::Time at = clock_.Now() + absl::Hours(30 * 24);
  ASSERT_TRUE(LeaveAt("e-2", at).ok());
  // Long real-time sleeps: only Wake() or the due time moves the thread.
  Scheduler scheduler(lifecycle_.get(), &clock_,
                      {absl::Hours(1), absl::Hours(1)});
  scheduler.Start();
  scheduler.AwaitPass();
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_SCHEDULED);

  clock_.Set(at - absl::Seconds(1));
  scheduler.AwaitPass();
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_SCHEDULED);
  EXPECT_TRUE(fake_.Allows("p-1", "line_operator", "site/sz"));

  clock_.Set(at);
  scheduler.AwaitPass();
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  EXPECT_FALSE(fake_.Allows("p-1", "line_operator", "site/sz"));
  EXPECT_EQ(fake_.Get("p-1")->status(), iam::v1::PERSON_STATUS_LEFT);
  scheduler.Stop();
}

TEST_F(SchedulerTest, AfterARestartAppliesWhatItMissed) {
  const absl::Time at = clock_.Now() + absl::Hours(2);
  ASSERT_TRUE(LeaveAt("e-2", at).ok());
  // "Restart": a new Lifecycle over the same store, long after the due time.
  lifecycle_.reset();
  clock_.Set(at + absl::Hours(5));
  Lifecycle restarted(&store_, &clock_, &policy_,
                      Services{&fake_, &fake_, &fake_, &fake_}, audit_.get());
  Scheduler scheduler(&restarted, &clock_);
  ASSERT_TRUE(scheduler.RunPass().ok());
  auto r = restarted.GetEvent("e-2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state(), iam::v1::HR_EVENT_STATE_APPLIED);
  EXPECT_EQ(fake_.Get("p-1")->status(), iam::v1::PERSON_STATUS_LEFT);
}

TEST_F(SchedulerTest, FailingServiceIsRetriedOnTheNextPass) {
  ASSERT_TRUE(LeaveAt("e-2", clock_.Now() + absl::Minutes(1)).ok());
  clock_.Advance(absl::Minutes(1));
  fake_.FailNext("Update", 1);
  Scheduler scheduler(lifecycle_.get(), &clock_);
  EXPECT_EQ(scheduler.RunPass().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_APPLYING);
  EXPECT_TRUE(scheduler.RunPass().ok());
  EXPECT_EQ(lifecycle_->GetEvent("e-2")->state(), iam::v1::HR_EVENT_STATE_APPLIED);
}

}  // namespace
}  // namespace iam::lifecycle
