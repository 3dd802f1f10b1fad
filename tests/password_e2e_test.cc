// End-to-end: the password service in a real iamd over gRPC on loopback:
// initial password, forced change, login, indistinguishable failures,
// lockout and unlock, suspension, revocation, bad input, authorization, the
// sample policy applied at first start, and an audit log without passwords.
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "proto/iam/v1/password.grpc.pb.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

using iam::v1::PasswordService;

constexpr char kInitial[] = "temporary lathe password nine";
constexpr char kChosen[] = "seven orange forklifts at dawn";
constexpr char kWrong[] = "the reflow oven hums in b minor";

// Run twice: with the password service reading the co-hosted authz snapshot
// and identity registry (iamd's default), and over the authz and identity
// APIs as in a split deployment (--password_over_api).
class PasswordEndToEndTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::vector<std::string> flags;
    if (GetParam()) flags.push_back("--password_over_api");
    auto started = IamdProcess::Start(NewTempDir("password_e2e"), flags);
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
    passwords_ = PasswordService::NewStub(iamd_->channel());
    identity_ = iam::v1::IdentityService::NewStub(iamd_->channel());
    audit_ = iam::v1::AuditService::NewStub(iamd_->channel());
    ASSERT_TRUE(CreatePerson("p-3001", "Mei Lin").ok());
  }

  grpc::Status CreatePerson(const std::string& id, const std::string& name) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::CreatePersonRequest req;
    req.mutable_person()->set_id(id);
    req.mutable_person()->set_display_name(name);
    req.mutable_person()->set_org_unit("ou/production/smt");
    req.mutable_person()->set_job_code("LINE_OPERATOR");
    req.mutable_person()->set_site("sz");
    req.mutable_person()->set_status(iam::v1::PERSON_STATUS_ACTIVE);
    req.set_reason("HR-1");
    iam::v1::CreatePersonResponse resp;
    return identity_->CreatePerson(&ctx, req, &resp);
  }

  grpc::Status SetStatus(const std::string& id, iam::v1::PersonStatus status) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::UpdatePersonRequest req;
    req.mutable_person()->set_id(id);
    req.mutable_person()->set_status(status);
    req.add_update_mask("status");
    req.set_reason("SEC-1");
    iam::v1::UpdatePersonResponse resp;
    return identity_->UpdatePerson(&ctx, req, &resp);
  }

  grpc::Status SetInitial(const std::string& id, const std::string& pw,
                          const std::string& caller = "admin") {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, caller);
    iam::v1::SetInitialPasswordRequest req;
    req.set_person_id(id);
    req.set_password(pw);
    req.set_reason("IT-77");
    iam::v1::SetInitialPasswordResponse resp;
    return passwords_->SetInitialPassword(&ctx, req, &resp);
  }

  grpc::Status Login(const std::string& id, const std::string& pw,
                     iam::v1::AuthenticateResponse* resp,
                     const std::string& source = "10.1.2.3",
                     const std::string& caller = "admin") {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, caller, 30);
    iam::v1::AuthenticateRequest req;
    req.set_person_id(id);
    req.set_password(pw);
    req.set_source(source);
    return passwords_->Authenticate(&ctx, req, resp);
  }

  iam::v1::AuthResult LoginResult(const std::string& id, const std::string& pw,
                                  const std::string& source = "10.1.2.3") {
    iam::v1::AuthenticateResponse resp;
    grpc::Status s = Login(id, pw, &resp, source);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.result();
  }

  grpc::Status Change(const std::string& id, const std::string& old_pw,
                      const std::string& new_pw, iam::v1::ChangePasswordResponse* resp) {
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin", 30);
    iam::v1::ChangePasswordRequest req;
    req.set_person_id(id);
    req.set_old_password(old_pw);
    req.set_new_password(new_pw);
    req.set_source("10.1.2.3");
    return passwords_->ChangePassword(&ctx, req, resp);
  }

  // Sets and changes the password so that the person can log in.
  void ReadyToLogIn(const std::string& id) {
    ASSERT_TRUE(SetInitial(id, kInitial).ok());
    iam::v1::ChangePasswordResponse changed;
    grpc::Status s = Change(id, kInitial, kChosen, &changed);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(changed.result(), iam::v1::AUTH_RESULT_OK);
  }

  std::unique_ptr<IamdProcess> iamd_;
  std::unique_ptr<PasswordService::Stub> passwords_;
  std::unique_ptr<iam::v1::IdentityService::Stub> identity_;
  std::unique_ptr<iam::v1::AuditService::Stub> audit_;
};

TEST_P(PasswordEndToEndTest, SamplePolicyIsAppliedAtFirstStart) {
  grpc::ClientContext ctx;
  PrepareContext(&ctx, "p-3001");  // any authenticated caller may read it
  iam::v1::GetPasswordPolicyResponse resp;
  grpc::Status s =
      passwords_->GetPasswordPolicy(&ctx, iam::v1::GetPasswordPolicyRequest(), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(resp.defaults_only());
  EXPECT_EQ(resp.effective().min_length(), 15u);
  EXPECT_EQ(resp.effective().lockout_threshold(), 10u);
  EXPECT_EQ(resp.effective().argon2().memory_kib(), 19456u);
  EXPECT_GE(resp.configured().blocked_passwords_size(), 1);
}

TEST_P(PasswordEndToEndTest, InitialPasswordMustBeChangedThenLogsIn) {
  ASSERT_TRUE(SetInitial("p-3001", kInitial).ok());
  iam::v1::AuthenticateResponse first;
  ASSERT_TRUE(Login("p-3001", kInitial, &first).ok());
  EXPECT_EQ(first.result(), iam::v1::AUTH_RESULT_MUST_CHANGE);
  iam::v1::ChangePasswordResponse changed;
  grpc::Status s = Change("p-3001", kInitial, kChosen, &changed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(changed.result(), iam::v1::AUTH_RESULT_OK);
  EXPECT_GT(changed.revision(), 0);
  EXPECT_EQ(LoginResult("p-3001", kChosen), iam::v1::AUTH_RESULT_OK);
  EXPECT_EQ(LoginResult("p-3001", kInitial), iam::v1::AUTH_RESULT_BAD_CREDENTIALS);
}

TEST_P(PasswordEndToEndTest, WrongPasswordAndUnknownPersonGetTheSameAnswer) {
  ReadyToLogIn("p-3001");
  iam::v1::AuthenticateResponse wrong, unknown;
  ASSERT_TRUE(Login("p-3001", kWrong, &wrong).ok());
  ASSERT_TRUE(Login("p-9999", kWrong, &unknown).ok());
  EXPECT_EQ(wrong.result(), iam::v1::AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(unknown.result(), wrong.result());
  EXPECT_EQ(unknown.message(), wrong.message());
  EXPECT_EQ(unknown.locked_until_unix(), wrong.locked_until_unix());
}

TEST_P(PasswordEndToEndTest, LockoutAfterTenFailuresUntilAdminUnlocks) {
  ReadyToLogIn("p-3001");
  iam::v1::AuthenticateResponse resp;
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(Login("p-3001", kWrong, &resp).ok());
    EXPECT_EQ(resp.result(), iam::v1::AUTH_RESULT_BAD_CREDENTIALS) << i;
  }
  ASSERT_TRUE(Login("p-3001", kWrong, &resp).ok());
  EXPECT_EQ(resp.result(), iam::v1::AUTH_RESULT_LOCKED);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  EXPECT_GE(resp.locked_until_unix(), now + 1790);  // 30 minutes
  EXPECT_EQ(LoginResult("p-3001", kChosen), iam::v1::AUTH_RESULT_LOCKED);

  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::UnlockRequest unlock;
  unlock.set_person_id("p-3001");
  unlock.set_reason("IT-78");
  iam::v1::UnlockResponse unlocked;
  ASSERT_TRUE(passwords_->Unlock(&ctx, unlock, &unlocked).ok());
  EXPECT_TRUE(unlocked.was_locked());
  EXPECT_EQ(LoginResult("p-3001", kChosen), iam::v1::AUTH_RESULT_OK);
}

TEST_P(PasswordEndToEndTest, SuspendedPersonNeverLogsInAndRevocationIsFinal) {
  ReadyToLogIn("p-3001");
  ASSERT_TRUE(SetStatus("p-3001", iam::v1::PERSON_STATUS_SUSPENDED).ok());
  EXPECT_EQ(LoginResult("p-3001", kChosen), iam::v1::AUTH_RESULT_NOT_ACTIVE);
  ASSERT_TRUE(SetStatus("p-3001", iam::v1::PERSON_STATUS_ACTIVE).ok());
  EXPECT_EQ(LoginResult("p-3001", kChosen), iam::v1::AUTH_RESULT_OK);

  grpc::ClientContext ctx;
  PrepareContext(&ctx, "admin");
  iam::v1::RevokeCredentialsRequest revoke;
  revoke.set_person_id("p-3001");
  revoke.set_reason("HR leaver");
  iam::v1::RevokeCredentialsResponse revoked;
  ASSERT_TRUE(passwords_->RevokeCredentials(&ctx, revoke, &revoked).ok());
  EXPECT_TRUE(revoked.revoked());
  EXPECT_EQ(LoginResult("p-3001", kChosen), iam::v1::AUTH_RESULT_BAD_CREDENTIALS);
}

TEST_P(PasswordEndToEndTest, BadInputIsInvalidArgumentAndSaysWhatToFix) {
  iam::v1::AuthenticateResponse resp;
  grpc::Status empty = Login("p-3001", "", &resp);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status control = Login("p-3001", std::string("tab\there is bad"), &resp);
  EXPECT_EQ(control.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(control.error_message().find("control"), std::string::npos);
  EXPECT_EQ(control.error_message().find("bad"), std::string::npos);
  grpc::Status utf8 = Login("p-3001", "bad \xff utf8 here", &resp);
  EXPECT_EQ(utf8.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status huge = Login("p-3001", std::string(1025, 'x'), &resp);
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status no_source = Login("p-3001", kChosen, &resp, "");
  EXPECT_EQ(no_source.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  grpc::Status weak = SetInitial("p-3001", "qwertyuiopasdfgh");
  EXPECT_EQ(weak.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(weak.error_message().find("common and breached"), std::string::npos);
  grpc::Status named = SetInitial("p-3001", "mei lin loves the night shift");
  EXPECT_EQ(named.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SetInitial("p-nobody", kInitial).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_P(PasswordEndToEndTest, CallersNeedTheirPermissions) {
  ReadyToLogIn("p-3001");
  // A person has no iam.passwords:* permission of their own.
  EXPECT_EQ(SetInitial("p-3001", kWrong, "p-3001").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  iam::v1::AuthenticateResponse resp;
  grpc::Status s = Login("p-3001", kChosen, &resp, "10.1.2.3", "p-3001");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("iam.passwords:authenticate"), std::string::npos);
}

TEST_P(PasswordEndToEndTest, EveryOutcomeIsAuditedWithoutThePassword) {
  ReadyToLogIn("p-3001");
  iam::v1::AuthenticateResponse resp;
  ASSERT_TRUE(Login("p-3001", kWrong, &resp).ok());
  ASSERT_TRUE(Login("p-3001", kChosen, &resp).ok());
  // Buffered records are written within 100 ms; poll briefly for them.
  iam::v1::QueryAuditResponse records;
  int logins = 0;
  for (int attempt = 0; attempt < 50 && logins < 2; ++attempt) {
    absl::SleepFor(absl::Milliseconds(100));
    grpc::ClientContext ctx;
    PrepareContext(&ctx, "admin");
    iam::v1::QueryAuditRequest query;
    query.set_person_id("p-3001");
    query.set_page_size(1000);
    records.Clear();
    ASSERT_TRUE(audit_->Query(&ctx, query, &records).ok());
    logins = 0;
    for (const auto& r : records.records()) {
      if (r.action() == "password.authenticate") ++logins;
    }
  }
  EXPECT_EQ(logins, 2);
  bool saw_set = false, saw_change = false;
  for (const auto& r : records.records()) {
    const std::string text = r.DebugString();
    for (const char* secret : {kInitial, kChosen, kWrong}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << text;
    }
    saw_set |= r.action() == "password.set";
    saw_change |= r.action() == "password.change";
  }
  EXPECT_TRUE(saw_set);
  EXPECT_TRUE(saw_change);
}

INSTANTIATE_TEST_SUITE_P(CoHostedAndOverApi, PasswordEndToEndTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "OverApi" : "CoHosted";
                         });

}  // namespace
}  // namespace iam::testing
