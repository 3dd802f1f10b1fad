// The HR lifecycle end to end against a real iamd: hire, move and leave over
// gRPC with birthright from policy/birthright.textproto; bad input refused
// with nothing changed; a caller without iam.lifecycle:write refused; and a
// leave that came due while iamd was down applied before it serves again.
#include <chrono>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "proto/iam/v1/lifecycle.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

class LifecycleE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = NewTempDir("lifecycle_e2e");
    Connect();
  }
  void Connect() {
    auto started = IamdProcess::Start(data_dir_);
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
    lifecycle_ = iam::v1::LifecycleService::NewStub(iamd_->channel());
    authz_ = iam::v1::AuthzService::NewStub(iamd_->channel());
    identity_ = iam::v1::IdentityService::NewStub(iamd_->channel());
  }

  grpc::Status Hire(const std::string& event, const std::string& person,
                    const std::string& job, iam::v1::HrEventResult* out,
                    const std::string& effective_at = "",
                    const std::string& caller = "admin") {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, caller, 30);
    iam::v1::HireRequest r;
    r.mutable_event()->set_event_id(event);
    r.mutable_event()->set_person_id(person);
    r.mutable_event()->set_effective_at(effective_at);
    r.set_display_name("Test Person");
    r.set_org_unit("ou/production/smt");
    r.set_job_code(job);
    r.set_site("sz");
    return lifecycle_->Hire(&ctx, r, out);
  }
  grpc::Status Leave(const std::string& event, const std::string& person,
                     iam::v1::HrEventResult* out, const std::string& effective_at = "") {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::LeaveRequest r;
    r.mutable_event()->set_event_id(event);
    r.mutable_event()->set_person_id(person);
    r.mutable_event()->set_effective_at(effective_at);
    return lifecycle_->Leave(&ctx, r, out);
  }
  bool Allowed(const std::string& person, const std::string& permission,
               const std::string& scope) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CheckRequest r;
    r.set_person_id(person);
    r.set_permission(permission);
    r.set_scope(scope);
    iam::v1::CheckResponse resp;
    grpc::Status s = authz_->Check(&ctx, r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.allowed();
  }

  std::string data_dir_;
  std::unique_ptr<IamdProcess> iamd_;
  std::unique_ptr<iam::v1::LifecycleService::Stub> lifecycle_;
  std::unique_ptr<iam::v1::AuthzService::Stub> authz_;
  std::unique_ptr<iam::v1::IdentityService::Stub> identity_;
};

TEST_F(LifecycleE2eTest, HireMoveLeaveFollowTheJob) {
  iam::v1::HrEventResult hired;
  grpc::Status s = Hire("E-1", "p-1", "LINE_LEAD", &hired);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Allowed("p-1", "mes.work_order:release", "site/sz/line/2"));

  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin", 30);
  iam::v1::MoveRequest move;
  move.mutable_event()->set_event_id("E-2");
  move.mutable_event()->set_person_id("p-1");
  move.set_job_code("LINE_OPERATOR");
  iam::v1::HrEventResult moved;
  s = lifecycle_->Move(&ctx, move, &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(Allowed("p-1", "mes.work_order:release", "site/sz/line/2"));
  EXPECT_TRUE(Allowed("p-1", "mes.operation:start", "site/sz/line/2"));

  grpc::ClientContext hctx;
  PrepareContext(&hctx, "admin");
  iam::v1::GetPersonHistoryRequest hreq;
  hreq.set_person_id("p-1");
  iam::v1::GetPersonHistoryResponse history;
  s = lifecycle_->GetPersonHistory(&hctx, hreq, &history);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(history.lifecycle().history_size(), 2);
  ASSERT_EQ(history.grants_size(), 1);
  EXPECT_EQ(history.grants(0).rule(), "production_operator");

  iam::v1::HrEventResult left;
  s = Leave("E-3", "p-1", &left);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(Allowed("p-1", "mes.operation:start", "site/sz/line/2"));
}

TEST_F(LifecycleE2eTest, BadInputIsRefusedAndChangesNothing) {
  iam::v1::HrEventResult r;
  grpc::Status s = Hire("E-1", "p-1", "CEO", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("unknown job code"), std::string::npos);
  s = Hire("E-1", "p-1", "LINE_LEAD", &r, "2030-01-01T08:00:00");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("no time zone"), std::string::npos);
  s = Leave("E-2", "p-nobody", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  s = Hire("E-1", "p-1", "LINE_LEAD", &r, "", "p-outsider");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::GetPersonRequest get;
  get.set_id("p-1");
  iam::v1::GetPersonResponse person;
  EXPECT_EQ(identity_->GetPerson(&ctx, get, &person).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(LifecycleE2eTest, LeaveThatCameDueWhileDownAppliesBeforeServing) {
  iam::v1::HrEventResult r;
  ASSERT_TRUE(Hire("E-1", "p-1", "LINE_LEAD", &r).ok());
  const absl::Time at = absl::Now() + absl::Seconds(3);
  const std::string when = absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", at,
                                            absl::FixedTimeZone(8 * 3600));
  iam::v1::HrEventResult scheduled;
  grpc::Status s = Leave("E-2", "p-1", &scheduled, when);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(scheduled.state(), iam::v1::HR_EVENT_STATE_SCHEDULED);
  EXPECT_TRUE(Allowed("p-1", "mes.work_order:release", "site/sz/line/1"));
  ASSERT_EQ(iamd_->Stop(), 0);
  // The leaving date passes while the server is down.
  std::this_thread::sleep_until(std::chrono::system_clock::from_time_t(
      absl::ToUnixSeconds(at) + 1));
  Connect();
  // The very first decision after the restart already denies.
  EXPECT_FALSE(Allowed("p-1", "mes.work_order:release", "site/sz/line/1"));
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::GetEventRequest get;
  get.set_event_id("E-2");
  iam::v1::HrEventResult applied;
  s = lifecycle_->GetEvent(&ctx, get, &applied);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(applied.state(), iam::v1::HR_EVENT_STATE_APPLIED);
  bool startup_step = false;
  for (const auto& step : applied.steps()) {
    if (step.find("start-up") != std::string::npos) startup_step = true;
  }
  EXPECT_TRUE(startup_step);
}

}  // namespace
}  // namespace iam::testing
