// AuthzServiceImpl over an in-process gRPC channel: DeleteBindingsOf (one
// commit, one audit record listing the ids, authorized like DeleteBinding).
#include "services/authz/authz_service.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/audit/audit_log.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::authz {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kPolicy[] = R"pb(
  permissions { name: "iam.bindings:write" }
  permissions { name: "iam.bindings:read" }
  permissions { name: "mes.work_order:view" }
  permissions { name: "mes.work_order:release" }
  roles {
    name: "iam_admin"
    permissions: "iam.bindings:write"
    permissions: "iam.bindings:read"
  }
  roles { name: "viewer" permissions: "mes.work_order:view" }
  roles { name: "line_lead" permissions: "mes.work_order:release" }
  scopes { path: "site/sz/line/2" }
  scopes { path: "site/sz" }
  scopes { path: "site/sz/line/1" }
)pb";

// The in-process channel proves its callers with the internal token.
constexpr char kToken[] = "test-internal-token";

class AuthzServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = AuthzEngine::Open(&store_, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    iam::v1::PolicyDocument doc;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kPolicy, &doc));
    auto applied = engine_->ApplyPolicy(doc, false);
    ASSERT_TRUE(applied.ok()) << applied.status();
    std::vector<iam::v1::SyncSubjectRequest> people;
    for (const char* id : {"admin", "alice", "bob", "mallory"}) {
      iam::v1::SyncSubjectRequest s;
      s.set_person_id(id);
      s.set_status(iam::v1::PERSON_STATUS_ACTIVE);
      people.push_back(s);
    }
    ASSERT_TRUE(engine_->SyncSubjects(people).ok());
    Bind("admin", "iam_admin", "/");
    mallory_binding_ = Bind("mallory", "viewer", "site/sz");

    audit::StoreAuditLog::Options options;
    options.flush_interval = absl::Hours(1);  // tests flush when they read
    auto log = audit::StoreAuditLog::Open(&store_, &clock_, options);
    ASSERT_TRUE(log.ok()) << log.status();
    audit_ = std::move(*log);
    service_ = std::make_unique<AuthzServiceImpl>(
        engine_.get(), audit_.get(),
        CallerConfig{CallerMode::kInsecureLoopback, kToken});
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = iam::v1::AuthzService::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  std::string Bind(const std::string& who, const std::string& role,
                   const std::string& scope) {
    iam::v1::RoleBinding b;
    b.mutable_subject()->set_kind(iam::v1::SUBJECT_KIND_PERSON);
    b.mutable_subject()->set_id(who);
    b.set_role(role);
    b.set_scope(scope);
    b.set_reason("IAM-7 setup");
    auto made = engine_->CreateBindings({b}, "admin");
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->first.front().id() : "";
  }

  grpc::Status DeleteBindingsOf(const std::string& caller, const std::string& person,
                                const std::string& reason,
                                iam::v1::DeleteBindingsOfResponse* out) {
    grpc::ClientContext ctx;
    ctx.AddMetadata(kInternalTokenHeader, kToken);
    ctx.AddMetadata(kCallerHeader, caller);
    iam::v1::DeleteBindingsOfRequest r;
    r.set_person_id(person);
    r.set_reason(reason);
    return stub_->DeleteBindingsOf(&ctx, r, out);
  }

  std::vector<std::string> BindingsOf(const std::string& person) {
    iam::v1::Subject s;
    s.set_kind(iam::v1::SUBJECT_KIND_PERSON);
    s.set_id(person);
    std::vector<std::string> ids;
    for (const auto& b : engine_->snapshot()->ListBindings(s, "", "", "", 0)) {
      ids.push_back(b.id());
    }
    return ids;
  }

  std::vector<iam::v1::AuditRecord> Records(const std::string& action) {
    EXPECT_TRUE(audit_->Flush().ok());
    iam::v1::QueryAuditRequest q;
    q.set_action_prefix(action);
    q.set_page_size(1000);
    std::vector<iam::v1::AuditRecord> out;
    for (int pages = 0; pages < 100; ++pages) {
      auto r = audit_->Query(q);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      for (const auto& rec : r->records()) {
        if (rec.action() == action) out.push_back(rec);
      }
      if (r->next_page_token().empty()) break;
      q.set_page_token(r->next_page_token());
    }
    return out;
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1780000000)};
  std::unique_ptr<AuthzEngine> engine_;
  std::unique_ptr<audit::StoreAuditLog> audit_;
  std::unique_ptr<AuthzServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<iam::v1::AuthzService::Stub> stub_;
  std::string mallory_binding_;
};

TEST_F(AuthzServiceTest, DeleteBindingsOfRemovesEveryBindingInOneCommitAndOneRecord) {
  std::vector<std::string> ids;
  for (const char* scope : {"site/sz/line/2", "site/sz", "site/sz/line/1"}) {
    ids.push_back(Bind("alice", "viewer", scope));
    ids.push_back(Bind("alice", "line_lead", scope));
  }
  const std::string bobs = Bind("bob", "viewer", "site/sz");
  std::sort(ids.begin(), ids.end());
  const Revision before = store_.CurrentRevision();

  iam::v1::DeleteBindingsOfResponse out;
  grpc::Status s = DeleteBindingsOf("admin", "alice", "HR L-1: resigned", &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(out.deleted_binding_ids(), ElementsAreArray(ids));
  EXPECT_EQ(out.revision(), engine_->snapshot()->revision());
  EXPECT_THAT(BindingsOf("alice"), IsEmpty());
  EXPECT_THAT(BindingsOf("bob"), ElementsAre(bobs));
  EXPECT_FALSE(engine_->Check("alice", "mes.work_order:view", "site/sz").allowed);
  EXPECT_TRUE(engine_->Check("bob", "mes.work_order:view", "site/sz").allowed);

  // Six bindings and their audit record: one synced commit.
  EXPECT_EQ(out.revision(), before + 1);
  EXPECT_EQ(store_.CurrentRevision(), out.revision());
  auto records = Records("authz.binding.delete_of");
  ASSERT_EQ(records.size(), 1u);
  const iam::v1::AuditRecord& r = records[0];
  EXPECT_EQ(r.caller(), "admin");
  EXPECT_EQ(r.person_id(), "alice");
  EXPECT_EQ(r.outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS);
  EXPECT_EQ(r.revision(), out.revision());
  EXPECT_EQ(r.target(), absl::StrJoin(ids, ","));
  EXPECT_EQ(r.reason(), "HR L-1: resigned");
  // One "role" label per role held, so admin-role alert rules see each.
  std::vector<std::string> roles;
  for (const auto& label : r.labels()) {
    if (label.key() == "role") roles.push_back(label.value());
  }
  EXPECT_THAT(roles, ElementsAre("line_lead", "viewer"));
}

TEST_F(AuthzServiceTest, AFailedWriteLeavesNeitherTheChangeNorASuccessRecord) {
  const std::string id = Bind("alice", "viewer", "site/sz");
  ASSERT_TRUE(audit_->Flush().ok());  // the store is idle
  const Revision before = store_.CurrentRevision();
  store_.FailNextWrites(1);
  iam::v1::DeleteBindingsOfResponse out;
  grpc::Status s = DeleteBindingsOf("admin", "alice", "HR L-2", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_THAT(BindingsOf("alice"), ElementsAre(id));
  EXPECT_TRUE(engine_->Check("alice", "mes.work_order:view", "site/sz").allowed);
  auto records = Records("authz.binding.delete_of");
  ASSERT_EQ(records.size(), 1u);  // the failure, recorded once the store recovered
  EXPECT_EQ(records[0].outcome(), iam::v1::AUDIT_OUTCOME_FAILED);
  EXPECT_EQ(records[0].revision(), 0);
  // A retry goes through, with its record, in one commit.
  ASSERT_TRUE(DeleteBindingsOf("admin", "alice", "HR L-2", &out).ok());
  EXPECT_THAT(BindingsOf("alice"), IsEmpty());
  EXPECT_GT(out.revision(), before);
  records = Records("authz.binding.delete_of");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS);
  EXPECT_EQ(records[1].revision(), out.revision());
}

TEST_F(AuthzServiceTest, DeleteBindingsOfLabelsTheRoleWhenThereIsOne) {
  Bind("alice", "line_lead", "site/sz/line/2");
  Bind("alice", "line_lead", "site/sz");
  iam::v1::DeleteBindingsOfResponse out;
  ASSERT_TRUE(DeleteBindingsOf("admin", "alice", "CHG-9", &out).ok());
  EXPECT_EQ(out.deleted_binding_ids_size(), 2);
  auto records = Records("authz.binding.delete_of");
  ASSERT_EQ(records.size(), 1u);
  ASSERT_EQ(records[0].labels_size(), 1);
  EXPECT_EQ(records[0].labels(0).key(), "role");
  EXPECT_EQ(records[0].labels(0).value(), "line_lead");
}

TEST_F(AuthzServiceTest, DeleteBindingsOfAPersonWithoutBindingsChangesNothing) {
  const Revision before = engine_->snapshot()->revision();
  iam::v1::DeleteBindingsOfResponse out;
  grpc::Status s = DeleteBindingsOf("admin", "bob", "HR L-2: retry", &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(out.deleted_binding_ids(), IsEmpty());
  EXPECT_EQ(out.revision(), before);
  EXPECT_EQ(engine_->snapshot()->revision(), before);
  auto records = Records("authz.binding.delete_of");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].target(), "");
  EXPECT_EQ(records[0].outcome(), iam::v1::AUDIT_OUTCOME_SUCCESS);
}

TEST_F(AuthzServiceTest, DeleteBindingsOfNeedsTheBindingsWritePermission) {
  const std::string alices = Bind("alice", "viewer", "site/sz/line/2");
  iam::v1::DeleteBindingsOfResponse out;
  // mallory holds a binding but not iam.bindings:write.
  grpc::Status s = DeleteBindingsOf("mallory", "alice", "because", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("iam.bindings:write"));
  EXPECT_THAT(BindingsOf("alice"), ElementsAre(alices));
  // Nor can she remove her own.
  s = DeleteBindingsOf("mallory", "mallory", "because", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(BindingsOf("mallory"), ElementsAre(mallory_binding_));
  // An unauthenticated call (no token) is refused too.
  grpc::ClientContext ctx;
  ctx.AddMetadata(kCallerHeader, "admin");
  iam::v1::DeleteBindingsOfRequest r;
  r.set_person_id("alice");
  r.set_reason("x");
  EXPECT_EQ(stub_->DeleteBindingsOf(&ctx, r, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(BindingsOf("alice"), ElementsAre(alices));
  // Both refusals are audited.
  int refused = 0;
  for (const auto& rec : Records("authz.binding.delete_of")) {
    EXPECT_EQ(rec.outcome(), iam::v1::AUDIT_OUTCOME_FAILED);
    ++refused;
  }
  EXPECT_EQ(refused, 3);
}

TEST_F(AuthzServiceTest, DeleteBindingsOfRejectsBadInputAndChangesNothing) {
  const std::string alices = Bind("alice", "viewer", "site/sz/line/2");
  const Revision before = engine_->snapshot()->revision();
  iam::v1::DeleteBindingsOfResponse out;

  grpc::Status s = DeleteBindingsOf("admin", "", "HR L-3", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("person_id is required"));

  s = DeleteBindingsOf("admin", std::string(kMaxIdLength + 1, 'p'), "HR L-3", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  s = DeleteBindingsOf("admin", "alice", "", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("reason is required"));

  s = DeleteBindingsOf("admin", "alice", std::string(kMaxReasonLength + 1, 'r'), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("at most"));

  s = DeleteBindingsOf("admin", "nobody", "HR L-3", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("unknown person 'nobody'"));

  EXPECT_EQ(engine_->snapshot()->revision(), before);
  EXPECT_THAT(BindingsOf("alice"), ElementsAre(alices));
}

}  // namespace
}  // namespace iam::authz
