// Crash safety: concurrent writers against a real iamd, SIGKILL mid-stream,
// restart on the same data directory. Every acknowledged write must be there
// with the revision it was acknowledged at, and revisions never go backwards.
#include <signal.h>

#include <atomic>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

struct Ack {
  std::string person_id;
  int64_t person_revision;
  std::string binding_id;  // empty if the binding write was not acknowledged
  int64_t binding_revision;
};

iam::v1::Person NewPerson(const std::string& id) {
  iam::v1::Person p;
  p.set_id(id);
  p.set_display_name("Crash Person");
  p.set_org_unit("ou/warehouse");
  p.set_job_code("WAREHOUSE_CLERK");
  p.set_site("hz");
  p.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  return p;
}

// Writers create a person and bind them, as fast as they can, until the
// server dies under them.
std::vector<Ack> WriteUntilKilled(IamdProcess* iamd, int round,
                                  int kill_after_acks) {
  auto identity = iam::v1::IdentityService::NewStub(iamd->channel());
  auto authz = iam::v1::AuthzService::NewStub(iamd->channel());
  absl::Mutex mu;
  std::vector<Ack> acks;
  std::atomic<int> acked{0};
  std::atomic<int> live{6};
  std::atomic<bool> killing{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0;; ++i) {
        Ack ack;
        ack.person_id = absl::StrCat("p-crash-", round, "-", w, "-", i);
        {
          grpc::ClientContext ctx;
          PrepareContext(&ctx, "admin", 5);
          iam::v1::CreatePersonRequest req;
          *req.mutable_person() = NewPerson(ack.person_id);
          iam::v1::CreatePersonResponse resp;
          grpc::Status s = identity->CreatePerson(&ctx, req, &resp);
          if (!s.ok()) {
            if (!killing.load()) ADD_FAILURE() << "write failed before the kill: " << s.error_message();
            live--;
            return;
          }
          ack.person_revision = resp.revision();
        }
        grpc::ClientContext ctx;
        PrepareContext(&ctx, "admin", 5);
        iam::v1::CreateBindingRequest req;
        req.mutable_binding()->mutable_subject()->set_kind(
            iam::v1::SUBJECT_KIND_PERSON);
        req.mutable_binding()->mutable_subject()->set_id(ack.person_id);
        req.mutable_binding()->set_role("warehouse_clerk");
        req.mutable_binding()->set_scope("site/hz");
        req.mutable_binding()->set_reason("crash test");
        iam::v1::CreateBindingResponse resp;
        grpc::Status s = authz->CreateBinding(&ctx, req, &resp);
        bool bound = s.ok();
        if (!bound && !killing.load()) {
          ADD_FAILURE() << "bind failed before the kill: " << s.error_message();
        }
        if (bound) {
          ack.binding_id = resp.binding().id();
          ack.binding_revision = resp.revision();
        }
        {
          absl::MutexLock lock(&mu);
          acks.push_back(ack);
        }
        acked++;
        if (!bound) {
          live--;
          return;
        }
      }
    });
  }
  while (acked.load() < kill_after_acks && live.load() > 0) {
    std::this_thread::yield();
  }
  killing = true;
  iamd->Kill();  // SIGKILL while writers are mid-request
  for (auto& t : writers) t.join();
  return acks;
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkillAndRevisionsNeverGoBack) {
  std::string dir = NewTempDir("crash");
  int64_t max_acked = 0;
  std::vector<Ack> all;
  for (int round = 0; round < 3; ++round) {
    auto iamd = IamdProcess::Start(dir);
    ASSERT_TRUE(iamd.ok()) << iamd.status();
    std::vector<Ack> acks = WriteUntilKilled(iamd->get(), round, 150);
    ASSERT_GE(acks.size(), 150u);
    all.insert(all.end(), acks.begin(), acks.end());
    for (const Ack& a : acks) {
      max_acked = std::max({max_acked, a.person_revision, a.binding_revision});
    }

    auto restarted = IamdProcess::Start(dir);
    ASSERT_TRUE(restarted.ok()) << restarted.status();
    auto identity = iam::v1::IdentityService::NewStub((*restarted)->channel());
    auto authz = iam::v1::AuthzService::NewStub((*restarted)->channel());
    for (const Ack& a : all) {
      grpc::ClientContext ctx;
      PrepareContext(&ctx, "admin");
      iam::v1::GetPersonRequest req;
      req.set_id(a.person_id);
      iam::v1::GetPersonResponse resp;
      grpc::Status s = identity->GetPerson(&ctx, req, &resp);
      ASSERT_TRUE(s.ok()) << a.person_id << ": " << s.error_message();
      EXPECT_EQ(resp.person().revision(), a.person_revision);
      if (!a.binding_id.empty()) {
        grpc::ClientContext cctx;
        PrepareContext(&cctx, "admin");
        iam::v1::CheckRequest check;
        check.set_person_id(a.person_id);
        check.set_permission("wms.inventory:view");
        check.set_scope("site/hz/warehouse/main");
        iam::v1::CheckResponse decision;
        ASSERT_TRUE(authz->Check(&cctx, check, &decision).ok());
        EXPECT_TRUE(decision.allowed()) << a.person_id << ": " << decision.reason();
        EXPECT_EQ(decision.binding_id(), a.binding_id);
        EXPECT_GT(decision.revision(), max_acked - 1);
      }
    }
    // A new write commits after everything acknowledged before the crash.
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreatePersonRequest req;
    *req.mutable_person() = NewPerson(absl::StrCat("p-after-", round));
    iam::v1::CreatePersonResponse resp;
    ASSERT_TRUE(identity->CreatePerson(&ctx, req, &resp).ok());
    EXPECT_GT(resp.revision(), max_acked);
    max_acked = resp.revision();
    (*restarted)->Kill();
  }
  std::cerr << all.size() << " acknowledged person writes over 3 SIGKILLs\n";
}

}  // namespace
}  // namespace iam::testing
