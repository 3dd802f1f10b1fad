// End-to-end: a real iamd over gRPC on loopback, driven as admins, HR and
// factory systems would.
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "tests/health.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

using iam::v1::AuditService;
using iam::v1::AuthzService;
using iam::v1::IdentityService;

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = IamdProcess::Start(NewTempDir("e2e"));
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
    authz_ = AuthzService::NewStub(iamd_->channel());
    identity_ = IdentityService::NewStub(iamd_->channel());
    audit_ = AuditService::NewStub(iamd_->channel());
  }

  grpc::Status CreatePerson(const std::string& caller, const std::string& id,
                            iam::v1::PersonStatus status,
                            int64_t* revision = nullptr) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, caller);
    iam::v1::CreatePersonRequest req;
    req.mutable_person()->set_id(id);
    req.mutable_person()->set_display_name("Test Person " + id);
    req.mutable_person()->set_org_unit("ou/production/smt");
    req.mutable_person()->set_job_code("LINE_OPERATOR");
    req.mutable_person()->set_site("sz");
    req.mutable_person()->set_status(status);
    req.set_reason("HR-1");
    iam::v1::CreatePersonResponse resp;
    grpc::Status s = identity_->CreatePerson(&ctx, req, &resp);
    if (!s.ok()) std::cerr << "CreatePerson " << id << ": " << s.error_message() << "\n";
    if (revision != nullptr) *revision = resp.revision();
    return s;
  }

  grpc::Status Bind(const std::string& caller, const std::string& person,
                    const std::string& role, const std::string& scope,
                    iam::v1::CreateBindingResponse* resp) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, caller);
    iam::v1::CreateBindingRequest req;
    req.mutable_binding()->mutable_subject()->set_kind(
        iam::v1::SUBJECT_KIND_PERSON);
    req.mutable_binding()->mutable_subject()->set_id(person);
    req.mutable_binding()->set_role(role);
    req.mutable_binding()->set_scope(scope);
    req.mutable_binding()->set_reason("CHG-42");
    return authz_->CreateBinding(&ctx, req, resp);
  }

  iam::v1::CheckResponse Check(const std::string& person,
                               const std::string& permission,
                               const std::string& scope) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CheckRequest req;
    req.set_person_id(person);
    req.set_permission(permission);
    req.set_scope(scope);
    iam::v1::CheckResponse resp;
    grpc::Status s = authz_->Check(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  std::unique_ptr<IamdProcess> iamd_;
  std::unique_ptr<AuthzService::Stub> authz_;
  std::unique_ptr<IdentityService::Stub> identity_;
  std::unique_ptr<AuditService::Stub> audit_;
};

TEST_F(EndToEndTest, HealthCheckReportsServing) {
  auto stub = grpc::health::v1::Health::NewStub(iamd_->channel());
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(stub->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(EndToEndTest, PersonBindingCheckAndSuspensionOverGrpc) {
  ASSERT_TRUE(CreatePerson("admin", "p-100", iam::v1::PERSON_STATUS_ACTIVE).ok());
  iam::v1::CreateBindingResponse bound;
  grpc::Status s = Bind("admin", "p-100", "line_lead", "site/sz/line/1", &bound);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(bound.binding().id().empty());

  iam::v1::CheckResponse allowed =
      Check("p-100", "mes.work_order:release", "site/sz/line/1");
  EXPECT_TRUE(allowed.allowed()) << allowed.reason();
  EXPECT_EQ(allowed.binding_id(), bound.binding().id());
  EXPECT_GE(allowed.revision(), bound.revision());
  ASSERT_GE(allowed.role_path_size(), 1);
  EXPECT_EQ(allowed.role_path(0), "line_lead");

  // Other line, other site: denied with a reason.
  iam::v1::CheckResponse other =
      Check("p-100", "mes.work_order:release", "site/sz/line/2");
  EXPECT_FALSE(other.allowed());
  EXPECT_FALSE(other.reason().empty());

  // Suspension takes effect for every check that starts after it returns.
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::UpdatePersonRequest upd;
  upd.mutable_person()->set_id("p-100");
  upd.mutable_person()->set_status(iam::v1::PERSON_STATUS_SUSPENDED);
  upd.add_update_mask("status");
  upd.set_reason("SEC-7");
  iam::v1::UpdatePersonResponse upd_resp;
  ASSERT_TRUE(identity_->UpdatePerson(&ctx, upd, &upd_resp).ok());
  iam::v1::CheckResponse after =
      Check("p-100", "mes.work_order:release", "site/sz/line/1");
  EXPECT_FALSE(after.allowed());
  EXPECT_GE(after.revision(), upd_resp.revision());
}

TEST_F(EndToEndTest, CallerWithoutAdminPermissionIsRefusedAndNothingChanges) {
  ASSERT_TRUE(CreatePerson("admin", "p-200", iam::v1::PERSON_STATUS_ACTIVE).ok());
  iam::v1::CreateBindingResponse bound;
  grpc::Status s = Bind("p-200", "p-200", "iam_admin", "/", &bound);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("iam.bindings:write"), std::string::npos)
      << s.error_message();
  EXPECT_FALSE(Check("p-200", "iam.bindings:write", "/").allowed());

  // No caller header at all.
  grpc::ClientContext ctx;
  iam::v1::CheckRequest req;
  req.set_person_id("p-200");
  req.set_permission("mes.work_order:view");
  req.set_scope("/");
  iam::v1::CheckResponse resp;
  EXPECT_EQ(authz_->Check(&ctx, req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(EndToEndTest, BadInputGetsClearErrors) {
  iam::v1::CreateBindingResponse bound;
  ASSERT_TRUE(CreatePerson("admin", "p-300", iam::v1::PERSON_STATUS_ACTIVE).ok());
  EXPECT_EQ(Bind("admin", "p-300", "no_such_role", "site/sz", &bound).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::Status bad_scope = Bind("admin", "p-300", "line_operator", "site/xx/line/9", &bound);
  EXPECT_NE(bad_scope.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(CreatePerson("admin", "", iam::v1::PERSON_STATUS_ACTIVE).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreatePerson("admin", "p-300", iam::v1::PERSON_STATUS_ACTIVE).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::BatchCheckRequest empty;
  iam::v1::BatchCheckResponse resp;
  EXPECT_EQ(authz_->BatchCheck(&ctx, empty, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Unknown permission: a decision, denied, not an error.
  iam::v1::CheckResponse unknown = Check("p-300", "mes.no_such:thing", "site/sz");
  EXPECT_FALSE(unknown.allowed());
  EXPECT_NE(unknown.reason().find("permission"), std::string::npos);
}

TEST_F(EndToEndTest, ChangesAndDecisionsAreAudited) {
  ASSERT_TRUE(CreatePerson("admin", "p-400", iam::v1::PERSON_STATUS_ACTIVE).ok());
  Check("p-400", "mes.work_order:view", "site/sz");
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::QueryAuditRequest req;
  req.set_person_id("p-400");
  iam::v1::QueryAuditResponse resp;
  grpc::Status s = audit_->Query(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  bool saw_create = false, saw_check = false;
  for (const auto& r : resp.records()) {
    if (r.action() == "identity.person.create") {
      saw_create = true;
      EXPECT_EQ(r.caller(), "admin");
      EXPECT_GT(r.revision(), 0);
      EXPECT_EQ(r.reason(), "HR-1");
    }
    if (r.action() == "authz.check") {
      saw_check = true;
      EXPECT_EQ(r.outcome(), iam::v1::AUDIT_OUTCOME_DENIED);
    }
  }
  EXPECT_TRUE(saw_create);
  EXPECT_TRUE(saw_check);
}

TEST_F(EndToEndTest, StateSurvivesCleanRestart) {
  std::string dir = NewTempDir("restart");
  auto first = IamdProcess::Start(dir);
  ASSERT_TRUE(first.ok()) << first.status();
  auto identity = IdentityService::NewStub((*first)->channel());
  {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreatePersonRequest req;
    req.mutable_person()->set_id("p-500");
    req.mutable_person()->set_display_name("Restart Person");
    req.mutable_person()->set_org_unit("ou/qa");
    req.mutable_person()->set_job_code("QA_INSPECTOR");
    req.mutable_person()->set_site("hz");
    iam::v1::CreatePersonResponse resp;
    ASSERT_TRUE(identity->CreatePerson(&ctx, req, &resp).ok());
  }
  EXPECT_EQ((*first)->Stop(), 0);  // SIGTERM: clean exit
  auto second = IamdProcess::Start(dir);
  ASSERT_TRUE(second.ok()) << second.status();
  identity = IdentityService::NewStub((*second)->channel());
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::GetPersonRequest req;
  req.set_id("p-500");
  iam::v1::GetPersonResponse resp;
  ASSERT_TRUE(identity->GetPerson(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.person().display_name(), "Restart Person");
  EXPECT_EQ(resp.person().status(), iam::v1::PERSON_STATUS_PENDING);
}

}  // namespace
}  // namespace iam::testing
