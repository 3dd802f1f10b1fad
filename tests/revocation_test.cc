// Revocation is immediate: while checkers hammer a real iamd over gRPC, a
// binding is deleted (and, separately, a person suspended). No check that
// starts after the write returned may allow, and no allow may carry a
// revision at or after the write's.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Observation {
  Clock::time_point started;
  bool allowed;
  int64_t revision;
};

class RevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = IamdProcess::Start(NewTempDir("revocation"));
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
    authz_ = iam::v1::AuthzService::NewStub(iamd_->channel());
    identity_ = iam::v1::IdentityService::NewStub(iamd_->channel());
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreatePersonRequest req;
    req.mutable_person()->set_id("p-rev");
    req.mutable_person()->set_display_name("Revoked Person");
    req.mutable_person()->set_org_unit("ou/production");
    req.mutable_person()->set_job_code("BURNING_TECHNICIAN");
    req.mutable_person()->set_site("sz");
    req.mutable_person()->set_status(iam::v1::PERSON_STATUS_ACTIVE);
    iam::v1::CreatePersonResponse resp;
    ASSERT_TRUE(identity_->CreatePerson(&ctx, req, &resp).ok());
  }

  std::string Bind() {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreateBindingRequest req;
    req.mutable_binding()->mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
    req.mutable_binding()->mutable_subject()->set_id("p-rev");
    req.mutable_binding()->set_role("burning_technician");
    req.mutable_binding()->set_scope("site/sz/area/burning");
    req.mutable_binding()->set_reason("CHG-1");
    iam::v1::CreateBindingResponse resp;
    grpc::Status s = authz_->CreateBinding(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.binding().id();
  }

  // Runs `threads` checkers until `revoke` has returned and `after` more
  // checks were made; returns all observations and the revoke's revision and
  // return time.
  void RunWhileRevoking(const std::function<int64_t()>& revoke,
                        std::vector<Observation>* observations,
                        int64_t* revoke_revision,
                        Clock::time_point* revoked_at) {
    std::atomic<bool> stop{false};
    std::atomic<int> allowed_seen{0};
    std::atomic<int> started{0};  // counted after each check's start time
    absl::Mutex mu;
    std::vector<std::thread> checkers;
    for (int t = 0; t < 4; ++t) {
      checkers.emplace_back([&] {
        std::vector<Observation> local;
        while (!stop.load()) {
          grpc::ClientContext ctx;
          PrepareContext(&ctx, "admin");
          iam::v1::CheckRequest req;
          req.set_person_id("p-rev");
          req.set_permission("burning.firmware:flash");
          req.set_scope("site/sz/area/burning");
          iam::v1::CheckResponse resp;
          Observation o{Clock::now(), false, 0};
          started++;
          grpc::Status s = authz_->Check(&ctx, req, &resp);
          ASSERT_TRUE(s.ok()) << s.error_message();
          o.allowed = resp.allowed();
          o.revision = resp.revision();
          if (o.allowed) allowed_seen++;
          local.push_back(o);
        }
        absl::MutexLock lock(&mu);
        observations->insert(observations->end(), local.begin(), local.end());
      });
    }
    // Revoke mid-stream, once checkers have seen allows.
    while (allowed_seen.load() < 200) std::this_thread::yield();
    *revoke_revision = revoke();
    *revoked_at = Clock::now();
    // Let the checkers make a good number of checks after the revoke: every
    // check counted after this point but one in flight per checker started
    // after `revoked_at`. (Checks of this permission are audited durably, so
    // on a slow disk they take a while: wait for the count, not a time.)
    int seen_at_revoke = allowed_seen.load();
    const int started_at_revoke = started.load();
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (started.load() < started_at_revoke + 4 + 150 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stop = true;
    for (auto& t : checkers) t.join();
    EXPECT_GE(allowed_seen.load(), seen_at_revoke);
  }

  static void ExpectNoStaleAllow(const std::vector<Observation>& observations,
                                 int64_t revoke_revision,
                                 Clock::time_point revoked_at) {
    int before = 0, after = 0, allowed = 0;
    for (const auto& o : observations) {
      if (o.allowed) {
        ++allowed;
        EXPECT_LT(o.revision, revoke_revision);
      }
      if (o.started > revoked_at) {
        ++after;
        EXPECT_FALSE(o.allowed) << "a check that started after the revocation "
                                   "returned was allowed at revision "
                                << o.revision;
      } else {
        ++before;
      }
    }
    EXPECT_GT(allowed, 100);
    EXPECT_GT(after, 100);
    std::cerr << observations.size() << " checks: " << allowed << " allowed, "
              << after << " started after the revocation returned\n";
  }

  std::unique_ptr<IamdProcess> iamd_;
  std::unique_ptr<iam::v1::AuthzService::Stub> authz_;
  std::unique_ptr<iam::v1::IdentityService::Stub> identity_;
};

TEST_F(RevocationTest, DeletedBindingDeniesEveryLaterCheck) {
  std::string binding = Bind();
  std::vector<Observation> observations;
  int64_t revision = 0;
  Clock::time_point revoked_at;
  RunWhileRevoking(
      [&] {
        grpc::ClientContext ctx;
        PrepareContext(&ctx, "admin");
        iam::v1::DeleteRequest req;
        req.set_name(binding);
        req.set_reason("access no longer needed");
        iam::v1::WriteResponse resp;
        grpc::Status s = authz_->DeleteBinding(&ctx, req, &resp);
        EXPECT_TRUE(s.ok()) << s.error_message();
        return resp.revision();
      },
      &observations, &revision, &revoked_at);
  ExpectNoStaleAllow(observations, revision, revoked_at);
}

TEST_F(RevocationTest, SuspensionDeniesEveryLaterCheck) {
  Bind();
  std::vector<Observation> observations;
  int64_t revision = 0;
  Clock::time_point revoked_at;
  RunWhileRevoking(
      [&] {
        grpc::ClientContext ctx;
        PrepareContext(&ctx, "admin");
        iam::v1::UpdatePersonRequest req;
        req.mutable_person()->set_id("p-rev");
        req.mutable_person()->set_status(iam::v1::PERSON_STATUS_SUSPENDED);
        req.add_update_mask("status");
        iam::v1::UpdatePersonResponse resp;
        grpc::Status s = identity_->UpdatePerson(&ctx, req, &resp);
        EXPECT_TRUE(s.ok()) << s.error_message();
        return resp.revision();
      },
      &observations, &revision, &revoked_at);
  ExpectNoStaleAllow(observations, revision, revoked_at);
}

}  // namespace
}  // namespace iam::testing
