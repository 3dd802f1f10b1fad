// Audit durability against a real iamd: writers storm it with audited
// changes (CreatePerson: acknowledged only after its audit record is synced)
// and with Checks of a sync-audited firmware permission, iamd is SIGKILLed
// mid-storm, and after a restart every acknowledged change and sync decision
// has its audit record, and the chain verifies, online and offline.
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "services/audit/offline_store.h"
#include "services/audit/signer.h"
#include "services/audit/verifier.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

constexpr int kWriters = 8;

iam::v1::Person NewPerson(const std::string& id) {
  iam::v1::Person p;
  p.set_id(id);
  p.set_display_name("Audit Crash");
  p.set_org_unit("ou/burning");
  p.set_job_code("BURNING_TECH");
  p.set_site("sz");
  p.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  return p;
}

// Every sequence of a Query for `person`, across pages.
std::vector<iam::v1::AuditRecord> RecordsOf(iam::v1::AuditService::Stub& audit,
                                            const std::string& person) {
  std::vector<iam::v1::AuditRecord> out;
  iam::v1::QueryAuditRequest request;
  request.set_person_id(person);
  for (int page = 0; page < 100; ++page) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::QueryAuditResponse response;
    grpc::Status s = audit.Query(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    for (const auto& r : response.records()) out.push_back(r);
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return out;
}

TEST(AuditCrashTest, AcknowledgedRecordsSurviveSigkillAndTheChainVerifies) {
  const std::string dir = NewTempDir("audit-crash");
  absl::Mutex mu;
  std::vector<std::string> acked_people;     // CreatePerson acknowledged
  std::vector<std::string> acked_decisions;  // sync-audited Check answered
  {
    auto iamd = IamdProcess::Start(dir);
    ASSERT_TRUE(iamd.ok()) << iamd.status();
    auto identity = iam::v1::IdentityService::NewStub((*iamd)->channel());
    auto authz = iam::v1::AuthzService::NewStub((*iamd)->channel());
    std::atomic<bool> killing{false};
    std::atomic<int> acked{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !killing.load(); ++i) {
          const std::string id = absl::StrCat("p-ac-", w, "-", i);
          grpc::ClientContext ctx;
          PrepareContext(&ctx, "admin", 5);
          iam::v1::CreatePersonRequest req;
          *req.mutable_person() = NewPerson(id);
          req.set_reason("crash storm");
          iam::v1::CreatePersonResponse resp;
          if (!identity->CreatePerson(&ctx, req, &resp).ok()) {
            if (!killing.load()) ADD_FAILURE() << "write failed before the kill";
            return;
          }
          {
            absl::MutexLock lock(&mu);
            acked_people.push_back(id);
          }
          // burning.* permissions are sync-audited by default: an answer
          // means its record is on disk.
          grpc::ClientContext cctx;
          PrepareContext(&cctx, "admin", 5);
          iam::v1::CheckRequest check;
          check.set_person_id(id);
          check.set_permission("burning.firmware:flash");
          check.set_scope("site/sz/area/burning");
          iam::v1::CheckResponse decision;
          if (authz->Check(&cctx, check, &decision).ok()) {
            absl::MutexLock lock(&mu);
            acked_decisions.push_back(id);
          }
          acked++;
        }
      });
    }
    while (acked.load() < 200) std::this_thread::yield();
    killing = true;
    (*iamd)->Kill();
    for (auto& t : writers) t.join();
  }
  ASSERT_GE(acked_people.size(), 200u);

  // Offline, before any restart: the chain on disk verifies.
  {
    std::ifstream pub(dir + "/audit-signing-key.pem.pub");
    std::stringstream pem;
    pem << pub.rdbuf();
    auto key = audit::AuditPublicKey::FromPem(pem.str());
    ASSERT_TRUE(key.ok()) << key.status();
    auto store = audit::OfflineStore::Open(dir, dir + "-scratch");
    ASSERT_TRUE(store.ok()) << store.status();
    auto verified = audit::VerifyAuditLog(**store, *key);
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_TRUE(verified->ok()) << verified->problem();
  }

  auto restarted = IamdProcess::Start(dir);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  auto audit = iam::v1::AuditService::NewStub((*restarted)->channel());
  const absl::flat_hash_set<std::string> decided(acked_decisions.begin(),
                                                 acked_decisions.end());
  for (const std::string& person : acked_people) {
    bool created = false, checked = false;
    for (const auto& r : RecordsOf(*audit, person)) {
      if (r.action() == "identity.person.create" &&
          r.outcome() == iam::v1::AUDIT_OUTCOME_SUCCESS) {
        created = true;
      }
      if (r.action() == "authz.check" && r.target() ==
          "burning.firmware:flash@site/sz/area/burning") {
        checked = true;
      }
    }
    EXPECT_TRUE(created) << "acknowledged change of " << person << " lost";
    if (decided.contains(person)) {
      EXPECT_TRUE(checked) << "sync-audited decision on " << person << " lost";
    }
  }
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin", 60);
  iam::v1::VerifyAuditResponse verified;
  ASSERT_TRUE(audit->Verify(&ctx, iam::v1::VerifyAuditRequest(), &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
  std::cerr << acked_people.size() << " acknowledged changes, "
            << acked_decisions.size() << " sync decisions, "
            << verified.records_checked() << " records verified\n";
}

}  // namespace
}  // namespace iam::testing
