// The audit API end to end against a real iamd: Tail follows new records
// and resumes after a disconnect without gaps or duplicates; bad requests
// are refused; ErasePersonData shreds a person's text and is itself audited;
// the chain still verifies.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

class AuditE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto iamd = IamdProcess::Start(NewTempDir("audit-e2e"));
    ASSERT_TRUE(iamd.ok()) << iamd.status();
    iamd_ = std::move(*iamd);
    identity_ = iam::v1::IdentityService::NewStub(iamd_->channel());
    audit_ = iam::v1::AuditService::NewStub(iamd_->channel());
  }

  void CreatePerson(const std::string& id, const std::string& reason) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreatePersonRequest req;
    req.mutable_person()->set_id(id);
    req.mutable_person()->set_display_name("E2E");
    req.mutable_person()->set_org_unit("ou/qa");
    req.mutable_person()->set_job_code("QA");
    req.mutable_person()->set_site("sz");
    req.mutable_person()->set_status(iam::v1::PERSON_STATUS_ACTIVE);
    req.set_reason(reason);
    iam::v1::CreatePersonResponse resp;
    grpc::Status s = identity_->CreatePerson(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Reads from a Tail until `want` records arrived; returns them and the
  // resume point.
  std::vector<iam::v1::AuditRecord> TailFor(int64_t from, size_t want,
                                            int64_t* next) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::TailAuditRequest req;
    req.set_from_sequence(from);
    req.set_action_prefix("identity.person.create");
    auto reader = audit_->Tail(&ctx, req);
    std::vector<iam::v1::AuditRecord> out;
    iam::v1::TailAuditResponse msg;
    while (out.size() < want && reader->Read(&msg)) {
      for (const auto& r : msg.records()) out.push_back(r);
      *next = msg.next_sequence();
    }
    ctx.TryCancel();  // a disconnect
    reader->Finish();
    return out;
  }

  std::unique_ptr<IamdProcess> iamd_;
  std::unique_ptr<iam::v1::IdentityService::Stub> identity_;
  std::unique_ptr<iam::v1::AuditService::Stub> audit_;
};

TEST_F(AuditE2eTest, TailResumesWithoutGapsOrDuplicates) {
  for (int i = 0; i < 3; ++i) CreatePerson(absl::StrCat("p-t", i), "T-1");
  int64_t next = 0;
  // The bootstrap admin's creation at first start comes first.
  std::vector<iam::v1::AuditRecord> first = TailFor(1, 4, &next);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0].target(), "admin");
  EXPECT_EQ(first[0].caller(), "svc:iamd");
  for (int i = 3; i < 6; ++i) CreatePerson(absl::StrCat("p-t", i), "T-1");
  std::vector<iam::v1::AuditRecord> second = TailFor(next, 3, &next);
  ASSERT_EQ(second.size(), 3u);
  std::set<std::string> targets;
  int64_t last = 0;
  for (const auto* part : {&first, &second}) {
    for (const auto& r : *part) {
      EXPECT_GT(r.sequence(), last) << "in order, no duplicates";
      last = r.sequence();
      targets.insert(r.target());
    }
  }
  EXPECT_EQ(targets.size(), 7u);
  EXPECT_EQ(first[1].reason(), "T-1");  // decrypted for the reader
}

TEST_F(AuditE2eTest, TheFirstStartsChangesAreEachRecordedByTheServer) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::QueryAuditRequest req;
  req.set_caller("svc:iamd");
  req.set_page_size(100);
  iam::v1::QueryAuditResponse resp;
  grpc::Status s = audit_->Query(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::set<std::string> actions;
  for (const auto& r : resp.records()) {
    EXPECT_EQ(r.outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS) << r.action();
    EXPECT_GT(r.revision(), 0) << r.action();
    actions.insert(r.action());
  }
  // The sample policy, the server principal and the admin with their
  // bindings, the password policy and the key areas.
  for (const char* action :
       {"authz.policy.apply", "authz.subject.sync", "authz.binding.create",
        "identity.person.create", "password.policy.set", "badge.areas.apply"}) {
    EXPECT_TRUE(actions.count(action)) << action;
  }
}

TEST_F(AuditE2eTest, BadRequestsAreRefused) {
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::QueryAuditRequest req;
    req.set_since_unix_micros(10);
    req.set_until_unix_micros(5);
    iam::v1::QueryAuditResponse resp;
    EXPECT_EQ(audit_->Query(&ctx, req, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::TailAuditRequest req;
    req.set_from_sequence(-4);
    auto reader = audit_->Tail(&ctx, req);
    iam::v1::TailAuditResponse msg;
    while (reader->Read(&msg)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "nobody");
    iam::v1::VerifyAuditResponse resp;
    EXPECT_EQ(audit_->Verify(&ctx, iam::v1::VerifyAuditRequest(), &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
}

TEST_F(AuditE2eTest, EraseShredsPersonalTextAndTheChainStillVerifies) {
  CreatePerson("p-gone", "contract ends, private reason");
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::ErasePersonDataRequest req;
  req.set_person_id("p-gone");
  req.set_reason("RET-77");
  iam::v1::ErasePersonDataResponse resp;
  grpc::Status s = audit_->ErasePersonData(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.key_destroyed());

  grpc::ClientContext qctx;
  PrepareContext(&qctx, "admin");
  iam::v1::QueryAuditRequest query;
  query.set_person_id("p-gone");
  iam::v1::QueryAuditResponse records;
  ASSERT_TRUE(audit_->Query(&qctx, query, &records).ok());
  bool erased_create = false, erase_recorded = false;
  for (const auto& r : records.records()) {
    if (r.action() == "identity.person.create") {
      erased_create = r.reason_erased() && r.reason().empty();
    }
    if (r.action() == "audit.person.erase") erase_recorded = r.reason() == "RET-77";
  }
  EXPECT_TRUE(erased_create);
  EXPECT_TRUE(erase_recorded);

  grpc::ClientContext vctx;
  PrepareContext(&vctx, "admin");
  iam::v1::VerifyAuditResponse verified;
  ASSERT_TRUE(audit_->Verify(&vctx, iam::v1::VerifyAuditRequest(), &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
}

}  // namespace
}  // namespace iam::testing
