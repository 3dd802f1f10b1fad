#include "services/password/password_manager.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"
#include "services/password/argon2_hasher.h"
#include "services/password/fake_person_directory.h"

namespace iam::password {
namespace {

using iam::v1::AUTH_RESULT_BAD_CREDENTIALS;
using iam::v1::AUTH_RESULT_LOCKED;
using iam::v1::AUTH_RESULT_MUST_CHANGE;
using iam::v1::AUTH_RESULT_NOT_ACTIVE;
using iam::v1::AUTH_RESULT_OK;

constexpr char kGood[] = "lathe coolant smells of pears";
constexpr char kGood2[] = "seven orange forklifts at dawn";
constexpr char kGood3[] = "the reflow oven hums in b minor";

// The cheapest parameters the policy allows: these tests are about the flows.
iam::v1::PasswordPolicy FastPolicy() {
  iam::v1::PasswordPolicy p;
  p.mutable_argon2()->set_memory_kib(7168);
  p.mutable_argon2()->set_iterations(1);
  p.set_lockout_threshold(3);
  p.set_source_failure_burst(1000);
  return p;
}

class PasswordManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_.Put("p-1", "Li Wei", iam::v1::PERSON_STATUS_ACTIVE);
    directory_.Put("p-2", "Anna Berg", iam::v1::PERSON_STATUS_ACTIVE);
    directory_.Put("p-left", "Gone Person", iam::v1::PERSON_STATUS_LEFT);
    Reopen();
    ASSERT_TRUE(manager_->SetPolicy(FastPolicy()).ok());
  }
  void Reopen() {
    manager_.reset();
    auto opened = PasswordManager::Open(&store_, &clock_, {});
    ASSERT_TRUE(opened.ok()) << opened.status();
    manager_ = std::move(*opened);
    manager_->set_directory(&directory_);
  }
  // Sets `pw` for `id` and changes it once, so no MUST_CHANGE remains.
  void GivePassword(const std::string& id, const std::string& initial,
                    const std::string& pw) {
    ASSERT_TRUE(manager_->SetInitialPassword(id, initial, "admin").ok());
    auto changed = manager_->ChangePassword(id, initial, pw, "10.0.0.9");
    ASSERT_TRUE(changed.ok()) << changed.status();
    ASSERT_EQ(changed->result, AUTH_RESULT_OK);
  }
  iam::v1::AuthResult Login(const std::string& id, const std::string& pw,
                            const std::string& source = "10.0.0.1") {
    auto out = manager_->Authenticate(id, pw, source);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->result : iam::v1::AUTH_RESULT_UNSPECIFIED;
  }
  std::string StoredPhc(const std::string& id) {
    internal::StoredCredential c;
    auto raw = store_.Get(kPasswordColumn, "cred/" + id);
    EXPECT_TRUE(raw.ok());
    EXPECT_TRUE(c.ParseFromString(*raw));
    return c.phc();
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  FakePersonDirectory directory_;
  std::unique_ptr<PasswordManager> manager_;
};

TEST_F(PasswordManagerTest, InitialPasswordMustBeChangedThenLogsIn) {
  auto set = manager_->SetInitialPassword("p-1", kGood, "admin");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_GT(*set, 0);
  EXPECT_EQ(Login("p-1", kGood), AUTH_RESULT_MUST_CHANGE);
  auto changed = manager_->ChangePassword("p-1", kGood, kGood2, "10.0.0.1");
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->result, AUTH_RESULT_OK);
  EXPECT_GT(changed->revision, *set);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
  EXPECT_EQ(Login("p-1", kGood), AUTH_RESULT_BAD_CREDENTIALS);
}

TEST_F(PasswordManagerTest, StoresOnlyAnArgon2idPhcString) {
  ASSERT_TRUE(manager_->SetInitialPassword("p-1", kGood, "admin").ok());
  std::string phc = StoredPhc("p-1");
  EXPECT_TRUE(absl::StartsWith(phc, "$argon2id$v=19$m=7168,t=1,p=1$")) << phc;
  auto raw = store_.Get(kPasswordColumn, "cred/p-1");
  EXPECT_EQ(raw->find("coolant"), std::string::npos);
}

TEST_F(PasswordManagerTest, UnknownPersonAndWrongPasswordLookTheSame) {
  GivePassword("p-1", kGood, kGood2);
  auto wrong = manager_->Authenticate("p-1", kGood3, "10.0.0.1");
  auto unknown = manager_->Authenticate("p-404", kGood3, "10.0.0.1");
  auto no_password = manager_->Authenticate("p-2", kGood3, "10.0.0.1");
  ASSERT_TRUE(wrong.ok() && unknown.ok() && no_password.ok());
  EXPECT_EQ(wrong->result, AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(unknown->result, AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(no_password->result, AUTH_RESULT_BAD_CREDENTIALS);
  // ... and lock out after the same number of failures.
  Login("p-1", kGood3);
  Login("p-404", kGood3);
  auto third_real = manager_->Authenticate("p-1", kGood3, "10.0.0.1");
  auto third_ghost = manager_->Authenticate("p-404", kGood3, "10.0.0.1");
  EXPECT_EQ(third_real->result, AUTH_RESULT_LOCKED);
  EXPECT_EQ(third_ghost->result, AUTH_RESULT_LOCKED);
  EXPECT_EQ(third_real->locked_until, third_ghost->locked_until);
}

TEST_F(PasswordManagerTest, LockoutBlocksEvenTheRightPasswordAndGrows) {
  GivePassword("p-1", kGood, kGood2);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Login("p-1", kGood3), AUTH_RESULT_BAD_CREDENTIALS);
  auto locked = manager_->Authenticate("p-1", kGood3, "10.0.0.1");
  ASSERT_TRUE(locked.ok());
  EXPECT_EQ(locked->result, AUTH_RESULT_LOCKED);
  EXPECT_EQ(locked->locked_until, clock_.Now() + absl::Minutes(30));
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_LOCKED);
  clock_.Advance(absl::Minutes(30));
  for (int i = 0; i < 3; ++i) Login("p-1", kGood3);
  auto second = manager_->Authenticate("p-1", kGood2, "10.0.0.1");
  EXPECT_EQ(second->result, AUTH_RESULT_LOCKED);
  EXPECT_EQ(second->locked_until, clock_.Now() + absl::Minutes(60));
  auto status = manager_->Status("p-1");
  ASSERT_TRUE(status.ok());
  EXPECT_GT(status->locked_until_unix(), 0);
}

TEST_F(PasswordManagerTest, SuccessResetsTheFailureCount) {
  GivePassword("p-1", kGood, kGood2);
  Login("p-1", kGood3);
  Login("p-1", kGood3);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
  EXPECT_EQ(Login("p-1", kGood3), AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(Login("p-1", kGood3), AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
}

TEST_F(PasswordManagerTest, AdminUnlockClearsTheLockout) {
  GivePassword("p-1", kGood, kGood2);
  for (int i = 0; i < 3; ++i) Login("p-1", kGood3);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_LOCKED);
  auto unlocked = manager_->Unlock("p-1");
  ASSERT_TRUE(unlocked.ok());
  EXPECT_TRUE(unlocked->first);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
  auto again = manager_->Unlock("p-1");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->first);
  EXPECT_EQ(manager_->Unlock("p-nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PasswordManagerTest, LockoutSurvivesARestart) {
  GivePassword("p-1", kGood, kGood2);
  for (int i = 0; i < 3; ++i) Login("p-1", kGood3);
  Reopen();
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_LOCKED);
}

TEST_F(PasswordManagerTest, SourceRateLimitRefusesWithRetryTime) {
  iam::v1::PasswordPolicy p = FastPolicy();
  p.set_source_failure_burst(2);
  p.set_source_failures_per_minute(1);
  ASSERT_TRUE(manager_->SetPolicy(p).ok());
  GivePassword("p-1", kGood, kGood2);
  Login("p-1", kGood3, "10.9.9.9");
  Login("p-2", kGood3, "10.9.9.9");
  auto limited = manager_->Authenticate("p-1", kGood2, "10.9.9.9");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(limited.status().message()).find("retry after"),
            std::string::npos);
  EXPECT_EQ(Login("p-1", kGood2, "10.1.1.1"), AUTH_RESULT_OK);  // other source
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(Login("p-1", kGood2, "10.9.9.9"), AUTH_RESULT_OK);
}

TEST_F(PasswordManagerTest, SuspendedOrDepartedPeopleNeverLogIn) {
  GivePassword("p-1", kGood, kGood2);
  directory_.SetStatus("p-1", iam::v1::PERSON_STATUS_SUSPENDED);
  auto out = manager_->Authenticate("p-1", kGood2, "10.0.0.1");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, AUTH_RESULT_NOT_ACTIVE);
  EXPECT_NE(out->detail.find("SUSPENDED"), std::string::npos);
  // A wrong password does not reveal the status.
  EXPECT_EQ(Login("p-1", kGood3), AUTH_RESULT_BAD_CREDENTIALS);
  directory_.SetStatus("p-1", iam::v1::PERSON_STATUS_LEFT);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_NOT_ACTIVE);
  auto change = manager_->ChangePassword("p-1", kGood2, kGood3, "10.0.0.1");
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(change->result, AUTH_RESULT_NOT_ACTIVE);
  EXPECT_EQ(manager_->SetInitialPassword("p-left", kGood, "admin").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PasswordManagerTest, IdentityUnavailableFailsClosed) {
  GivePassword("p-1", kGood, kGood2);
  directory_.SetUnavailable(true);
  auto out = manager_->Authenticate("p-1", kGood2, "10.0.0.1");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(PasswordManagerTest, HistoryRejectsRecentPasswords) {
  GivePassword("p-1", kGood, kGood2);
  auto same = manager_->ChangePassword("p-1", kGood2, kGood2, "10.0.0.1");
  EXPECT_EQ(same.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(same.status().message()).find("last 5"), std::string::npos);
  auto old = manager_->ChangePassword("p-1", kGood2, kGood, "10.0.0.1");
  EXPECT_EQ(old.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->SetInitialPassword("p-1", kGood, "admin").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing changed: the current password still works.
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
}

TEST_F(PasswordManagerTest, HistoryKeepsOnlyWhatThePolicyAsks) {
  iam::v1::PasswordPolicy p = FastPolicy();
  p.set_history_size(2);
  ASSERT_TRUE(manager_->SetPolicy(p).ok());
  GivePassword("p-1", kGood, kGood2);
  // kGood is now two passwords back: allowed again with history_size 2.
  auto out = manager_->ChangePassword("p-1", kGood2, kGood3, "10.0.0.1");
  ASSERT_TRUE(out.ok()) << out.status();
  auto back = manager_->ChangePassword("p-1", kGood3, kGood, "10.0.0.1");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->result, AUTH_RESULT_OK);
}

TEST_F(PasswordManagerTest, PolicyViolationsAreInvalidArgumentAndChangeNothing) {
  GivePassword("p-1", kGood, kGood2);
  auto short_pw = manager_->ChangePassword("p-1", kGood2, "short one", "10.0.0.1");
  EXPECT_EQ(short_pw.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(short_pw.status().message()).find("at least 15"),
            std::string::npos);
  auto named = manager_->SetInitialPassword("p-1", "li wei likes the night shift", "admin");
  EXPECT_EQ(named.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(named.status().message()).find("name"), std::string::npos);
  EXPECT_EQ(manager_->SetInitialPassword("p-1", "qwertyuiopasdfgh", "admin")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
}

TEST_F(PasswordManagerTest, BadInputIsInvalidArgument) {
  EXPECT_EQ(manager_->Authenticate("", kGood, "s").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Authenticate("p 1", kGood, "s").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Authenticate("p-1", "", "s").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Authenticate("p-1", std::string(1025, 'a'), "s").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Authenticate("p-1", "bad\xff", "s").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Authenticate("p-1", "ctl\x01", "s").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Authenticate("p-1", kGood, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A password typed into the id field is not echoed back.
  auto s = manager_->Authenticate("my secret pw", kGood, "s").status();
  EXPECT_EQ(std::string(s.message()).find("secret"), std::string::npos);
}

TEST_F(PasswordManagerTest, MalformedStoredHashFailsClosed) {
  internal::StoredCredential bad;
  bad.set_phc("$argon2id$v=19$m=7168,t=1,p=1$broken");
  WriteBatch batch;
  batch.Put(kPasswordColumn, "cred/p-1", bad.SerializeAsString());
  ASSERT_TRUE(store_.Commit(batch).ok());
  auto out = manager_->Authenticate("p-1", kGood, "10.0.0.1");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss);
  // An admin can still replace or revoke it.
  ASSERT_TRUE(manager_->Revoke("p-1").ok());
  WriteBatch garbage;
  garbage.Put(kPasswordColumn, "cred/p-2", "\xff\xff not a proto");
  ASSERT_TRUE(store_.Commit(garbage).ok());
  EXPECT_EQ(manager_->Authenticate("p-2", kGood, "10.0.0.1").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(PasswordManagerTest, LoginRehashesWhenParametersChanged) {
  GivePassword("p-1", kGood, kGood2);
  EXPECT_NE(StoredPhc("p-1").find("m=7168,t=1,"), std::string::npos);
  iam::v1::PasswordPolicy p = FastPolicy();
  p.mutable_argon2()->set_iterations(2);
  ASSERT_TRUE(manager_->SetPolicy(p).ok());
  auto out = manager_->Authenticate("p-1", kGood2, "10.0.0.1");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result, AUTH_RESULT_OK);
  EXPECT_GT(out->revision, 0);
  EXPECT_NE(StoredPhc("p-1").find("m=7168,t=2,"), std::string::npos);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
}

TEST_F(PasswordManagerTest, PeriodicExpiryIsOffByDefaultAndAsksForAChange) {
  GivePassword("p-1", kGood, kGood2);
  clock_.Advance(absl::Hours(24 * 400));
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
  iam::v1::PasswordPolicy p = FastPolicy();
  p.set_max_age_days(90);
  ASSERT_TRUE(manager_->SetPolicy(p).ok());
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_MUST_CHANGE);
}

TEST_F(PasswordManagerTest, RevokeDeletesEverythingAndIsIdempotent) {
  GivePassword("p-1", kGood, kGood2);
  auto revoked = manager_->Revoke("p-1");
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->first);
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_BAD_CREDENTIALS);
  auto again = manager_->Revoke("p-1");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->first);
  EXPECT_EQ(again->second, 0);
}

TEST_F(PasswordManagerTest, StorageFailureChangesNothing) {
  GivePassword("p-1", kGood, kGood2);
  store_.FailNextWrites(1);
  auto out = manager_->ChangePassword("p-1", kGood2, kGood3, "10.0.0.1");
  EXPECT_FALSE(out.ok());
  EXPECT_EQ(Login("p-1", kGood2), AUTH_RESULT_OK);
}

TEST_F(PasswordManagerTest, PolicyIsValidatedStoredAndReloaded) {
  iam::v1::PasswordPolicy bad;
  bad.set_lockout_threshold(500);
  EXPECT_EQ(manager_->SetPolicy(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  iam::v1::PasswordPolicy p = FastPolicy();
  p.set_min_length(20);
  ASSERT_TRUE(manager_->SetPolicy(p).ok());
  Reopen();
  EXPECT_EQ(manager_->policy().effective.min_length(), 20u);
  EXPECT_FALSE(manager_->policy().defaults_only);
  EXPECT_FALSE(manager_->policy().configured.has_max_length());
}

TEST_F(PasswordManagerTest, CheckCandidateReportsWithoutStoring) {
  auto report = manager_->CheckCandidate("p-1", "Li Wei rules");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->length, 12);
  EXPECT_GE(report->problems.size(), 2u);  // short, and contains the name
  auto good = manager_->CheckCandidate("", kGood);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->problems.empty());
  EXPECT_GT(good->strength_bits, 40);
  EXPECT_EQ(manager_->CheckCandidate("p-404", kGood).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace iam::password
