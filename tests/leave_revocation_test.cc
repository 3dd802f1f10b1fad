// Leave is immediate and complete, over gRPC against a real iamd: while
// several threads keep checks in flight, HR's Leave is called. No allow may
// carry a revision at or after the Leave's status revision, and no check
// that started after Leave returned may allow. Afterwards the person has no
// binding, no password, and the audit log tells the story under the HR
// event id.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/badge.grpc.pb.h"
#include "proto/iam/v1/lifecycle.grpc.pb.h"
#include "proto/iam/v1/password.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

constexpr int kCheckers = 6;

using SteadyClock = std::chrono::steady_clock;

struct Observation {
  SteadyClock::time_point started;
  bool allowed;
  int64_t revision;
};

TEST(LeaveRevocationTest, NoAllowAfterLeaveAndEverythingIsGone) {
  auto started = IamdProcess::Start(NewTempDir("leave_revocation"));
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<IamdProcess> iamd = std::move(*started);
  auto lifecycle = iam::v1::LifecycleService::NewStub(iamd->channel());
  auto authz = iam::v1::AuthzService::NewStub(iamd->channel());
  auto passwords = iam::v1::PasswordService::NewStub(iamd->channel());
  auto audit = iam::v1::AuditService::NewStub(iamd->channel());
  auto badges = iam::v1::BadgeService::NewStub(iamd->channel());

  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::HireRequest hire;
    hire.mutable_event()->set_event_id("HR-HIRE-1");
    hire.mutable_event()->set_person_id("p-leaver");
    hire.mutable_event()->set_reason("new line lead");
    hire.set_display_name("Line Lead");
    hire.set_org_unit("ou/production/smt");
    hire.set_job_code("LINE_LEAD");
    hire.set_site("sz");
    iam::v1::HrEventResult result;
    grpc::Status s = lifecycle->Hire(&ctx, hire, &result);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(result.granted_size(), 1);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::SetInitialPasswordRequest req;
    req.set_person_id("p-leaver");
    req.set_password("Correct-Horse-Battery-42!");
    req.set_reason("IT-1");
    iam::v1::SetInitialPasswordResponse resp;
    grpc::Status s = passwords->SetInitialPassword(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::string badge_id;
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::IssueBadgeRequest req;
    req.set_person_id("p-leaver");
    req.set_card_number("0A1B2C3D4E5F");
    req.set_expires_at_unix(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count() +
        86400 * 365);
    req.set_reason("SEC-1");
    iam::v1::BadgeResponse resp;
    grpc::Status s = badges->IssueBadge(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    badge_id = resp.badge().id();
  }

  std::atomic<bool> stop{false};
  std::atomic<int> allowed_seen{0}, total{0};
  absl::Mutex mu;
  std::vector<Observation> observations;
  std::vector<std::thread> checkers;
  for (int t = 0; t < kCheckers; ++t) {
    checkers.emplace_back([&] {
      std::vector<Observation> local;
      while (!stop.load()) {
        grpc::ClientContext ctx;
        PrepareContext(&ctx, "admin");
        iam::v1::CheckRequest req;
        req.set_person_id("p-leaver");
        req.set_permission("mes.work_order:release");
        req.set_scope("site/sz/line/1");
        iam::v1::CheckResponse resp;
        Observation o{SteadyClock::now(), false, 0};
        grpc::Status s = authz->Check(&ctx, req, &resp);
        ASSERT_TRUE(s.ok()) << s.error_message();
        o.allowed = resp.allowed();
        o.revision = resp.revision();
        if (o.allowed) ++allowed_seen;
        ++total;
        local.push_back(o);
      }
      absl::MutexLock lock(&mu);
      observations.insert(observations.end(), local.begin(), local.end());
    });
  }
  while (allowed_seen.load() < 300) std::this_thread::yield();

  iam::v1::HrEventResult left;
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::LeaveRequest leave;
    leave.mutable_event()->set_event_id("HR-LEAVE-1");
    leave.mutable_event()->set_person_id("p-leaver");
    leave.mutable_event()->set_reason("resigned");
    grpc::Status s = lifecycle->Leave(&ctx, leave, &left);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const SteadyClock::time_point returned = SteadyClock::now();
  const int at_return = total.load();
  // Each checker has at most one check in flight when Leave returns, so
  // this many more guarantees 1,000 that started after it.
  while (total.load() < std::max(at_return + 1000 + kCheckers, 2000)) {
    std::this_thread::yield();
  }
  stop = true;
  for (auto& t : checkers) t.join();

  ASSERT_EQ(left.state(), iam::v1::HR_EVENT_STATE_APPLIED);
  ASSERT_GT(left.status_revision(), 0);
  int allowed = 0, after = 0;
  for (const Observation& o : observations) {
    if (o.allowed) {
      ++allowed;
      EXPECT_LT(o.revision, left.status_revision());
    }
    if (o.started > returned) {
      ++after;
      EXPECT_FALSE(o.allowed) << "a check that started after Leave returned "
                                 "was allowed at revision "
                              << o.revision;
    }
  }
  EXPECT_GE(static_cast<int>(observations.size()), 2000);
  EXPECT_GE(allowed, 300);
  EXPECT_GE(after, 1000);
  std::cerr << observations.size() << " checks, " << allowed << " allowed, "
            << after << " after Leave returned (status revision "
            << left.status_revision() << ")\n";

  // Complete: no binding, no password, no badge; a repeated Leave is a no-op.
  EXPECT_TRUE(left.credentials_revoked());
  ASSERT_EQ(left.badges_size(), 1);
  EXPECT_EQ(left.badges(0), badge_id);
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::GetBadgeRequest req;
    req.set_badge_id(badge_id);
    iam::v1::BadgeResponse resp;
    ASSERT_TRUE(badges->GetBadge(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.badge().state(), iam::v1::BADGE_STATE_REVOKED);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::ListBindingsRequest req;
    req.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
    req.mutable_subject()->set_id("p-leaver");
    iam::v1::ListBindingsResponse resp;
    ASSERT_TRUE(authz->ListBindings(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.bindings_size(), 0);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::AuthenticateRequest req;
    req.set_person_id("p-leaver");
    req.set_password("Correct-Horse-Battery-42!");
    req.set_source("10.0.0.1");
    iam::v1::AuthenticateResponse resp;
    ASSERT_TRUE(passwords->Authenticate(&ctx, req, &resp).ok());
    EXPECT_NE(resp.result(), iam::v1::AUTH_RESULT_OK);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::LeaveRequest leave;
    leave.mutable_event()->set_event_id("HR-LEAVE-1");
    leave.mutable_event()->set_person_id("p-leaver");
    leave.mutable_event()->set_reason("resigned");
    iam::v1::HrEventResult again;
    ASSERT_TRUE(lifecycle->Leave(&ctx, leave, &again).ok());
    EXPECT_TRUE(again.replayed());
    EXPECT_EQ(again.status_revision(), left.status_revision());
  }
  {
    // The person's story also holds thousands of check decisions: follow
    // every page.
    iam::v1::QueryAuditRequest req;
    req.set_person_id("p-leaver");
    req.set_page_size(1000);
    bool leave_record = false, status_record = false;
    int bindings_records = 0;
    for (int page = 0; page < 200; ++page) {
      grpc::ClientContext page_ctx;
      PrepareContext(&page_ctx, "admin");
      iam::v1::QueryAuditResponse resp;
      ASSERT_TRUE(audit->Query(&page_ctx, req, &resp).ok());
      for (const auto& r : resp.records()) {
        if (r.action() == "lifecycle.leave" && r.target() == "HR-LEAVE-1") leave_record = true;
        if (r.action() == "identity.person.update" &&
            r.reason().find("HR HR-LEAVE-1:") != std::string::npos) {
          status_record = true;
        }
        // Every binding went in one authz commit with one record naming
        // them all, tied to the HR event.
        if (r.action() == "authz.binding.delete_of") {
          ++bindings_records;
          EXPECT_EQ(r.outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS);
          EXPECT_NE(r.reason().find("HR HR-LEAVE-1:"), std::string::npos) << r.reason();
          ASSERT_EQ(left.removed_size(), 1);
          EXPECT_EQ(r.target(), left.removed(0).binding_id());
        }
      }
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    EXPECT_TRUE(leave_record);
    EXPECT_TRUE(status_record);
    EXPECT_EQ(bindings_records, 1);
  }
}

}  // namespace
}  // namespace iam::testing
