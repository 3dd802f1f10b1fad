#include "services/badge/badge_registry.h"

#include <memory>

#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::badge {
namespace {

using iam::v1::BADGE_STATE_ACTIVE;
using iam::v1::BADGE_STATE_LOST;
using iam::v1::BADGE_STATE_REVOKED;
using iam::v1::BADGE_STATE_SUSPENDED;

class BadgeRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    registry_.reset();
    auto opened = BadgeRegistry::Open(&store_, &clock_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    registry_ = std::move(*opened);
  }
  absl::StatusOr<iam::v1::Badge> Issue(const std::string& person,
                                       const std::string& card) {
    BadgeRegistry::IssueRequest r;
    r.person_id = person;
    r.card_number = card;
    r.expires_at = clock_.Now() + absl::Hours(24 * 365);
    r.issued_by = "admin";
    r.reason = "SEC-1";
    return registry_->Issue(r);
  }

  MemoryStore store_{{"badge"}};
  FakeClock clock_{absl::FromUnixSeconds(1800000000)};
  std::unique_ptr<BadgeRegistry> registry_;
};

TEST_F(BadgeRegistryTest, NormalizesCardNumbers) {
  EXPECT_EQ(*NormalizeCardNumber("04a1 b2c3 d4e5 f6"), "04A1B2C3D4E5F6");
  EXPECT_FALSE(NormalizeCardNumber("04A1B2").ok());               // too short
  EXPECT_FALSE(NormalizeCardNumber("04A1B2C3D").ok());            // odd count
  EXPECT_FALSE(NormalizeCardNumber("04A1B2C3-4E5F6").ok());       // not hex
  EXPECT_FALSE(NormalizeCardNumber(std::string(22, 'A')).ok());   // too long
  EXPECT_FALSE(NormalizeCardNumber("").ok());
}

TEST_F(BadgeRegistryTest, IssuesAndFindsByCard) {
  auto b = Issue("p-1", "04a1b2c3d4e5f6");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->id(), "b-00000001");
  EXPECT_EQ(b->state(), BADGE_STATE_ACTIVE);
  EXPECT_EQ(b->card_number(), "04A1B2C3D4E5F6");
  EXPECT_GT(b->revision(), 0);
  auto found = registry_->FindByCard("04A1B2C3D4E5F6");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->person_id(), "p-1");
  EXPECT_FALSE(registry_->FindByCard("0000000000").has_value());
}

TEST_F(BadgeRegistryTest, OneActiveBadgePerPerson) {
  ASSERT_TRUE(Issue("p-1", "AAAAAAAA").ok());
  auto second = Issue("p-1", "BBBBBBBB");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->List("p-1", {}, "", 10).size(), 1u);
}

TEST_F(BadgeRegistryTest, CardNumbersAreNeverReissued) {
  auto b = Issue("p-1", "AAAAAAAA");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(registry_->ReportLost(b->id(), "lost on the bus").ok());
  auto again = Issue("p-2", "aaaaaaaa");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(BadgeRegistryTest, RejectsBadIssuesAndChangesNothing) {
  BadgeRegistry::IssueRequest r;
  r.person_id = "p-1";
  r.card_number = "AAAAAAAA";
  r.reason = "x";
  r.expires_at = clock_.Now();  // not in the future
  EXPECT_EQ(registry_->Issue(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.expires_at = clock_.Now() + absl::Hours(24 * 366 * 6);
  EXPECT_EQ(registry_->Issue(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.expires_at = clock_.Now() + absl::Hours(1);
  r.reason = "";
  EXPECT_EQ(registry_->Issue(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.reason = "x";
  r.card_number = "nothex!!";
  EXPECT_EQ(registry_->Issue(r).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.CurrentRevision(), 0);
  EXPECT_TRUE(registry_->List("", {}, "", 10).empty());
}

TEST_F(BadgeRegistryTest, LostAndRevokedAreFinal) {
  auto b = Issue("p-1", "AAAAAAAA");
  ASSERT_TRUE(b.ok());
  auto lost = registry_->ReportLost(b->id(), "lost");
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(lost->state(), BADGE_STATE_LOST);
  EXPECT_EQ(registry_->Resume(b->id(), "found it").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Revoke(b->id(), "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A lost badge no longer blocks a new one.
  EXPECT_TRUE(Issue("p-1", "BBBBBBBB").ok());
  EXPECT_EQ(registry_->ReportLost("b-99", "x").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(BadgeRegistryTest, SuspendResumeAndRevokeAllOfAPerson) {
  auto b = Issue("p-1", "AAAAAAAA");
  ASSERT_TRUE(b.ok());
  auto suspended = registry_->SuspendAllOf("p-1", "HR suspend");
  ASSERT_TRUE(suspended.ok());
  ASSERT_EQ(suspended->first.size(), 1u);
  EXPECT_EQ(suspended->first[0].state(), BADGE_STATE_SUSPENDED);
  // Idempotent: nothing left to suspend.
  auto again = registry_->SuspendAllOf("p-1", "HR suspend");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->first.empty());
  EXPECT_EQ(again->second, 0);
  ASSERT_TRUE(registry_->Resume(b->id(), "back").ok());
  EXPECT_EQ(registry_->Get(b->id())->state(), BADGE_STATE_ACTIVE);
  auto revoked = registry_->RevokeAllOf("p-1", "HR leave");
  ASSERT_TRUE(revoked.ok());
  ASSERT_EQ(revoked->first.size(), 1u);
  EXPECT_EQ(registry_->Get(b->id())->state(), BADGE_STATE_REVOKED);
  EXPECT_TRUE(registry_->ActiveBadges().empty());
}

TEST_F(BadgeRegistryTest, ResumeRefusesASecondActiveBadge) {
  auto first = Issue("p-1", "AAAAAAAA");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(registry_->SuspendAllOf("p-1", "x").ok());
  ASSERT_TRUE(Issue("p-1", "BBBBBBBB").ok());
  EXPECT_EQ(registry_->Resume(first->id(), "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(BadgeRegistryTest, ExpiredBadgesAreNotActive) {
  BadgeRegistry::IssueRequest r;
  r.person_id = "p-1";
  r.card_number = "AAAAAAAA";
  r.reason = "x";
  r.expires_at = clock_.Now() + absl::Hours(1);
  ASSERT_TRUE(registry_->Issue(r).ok());
  EXPECT_EQ(registry_->ActiveBadges().size(), 1u);
  clock_.Advance(absl::Hours(1));
  EXPECT_TRUE(registry_->ActiveBadges().empty());
  // An expired badge no longer blocks a new one.
  r.card_number = "BBBBBBBB";
  r.expires_at = clock_.Now() + absl::Hours(1);
  EXPECT_TRUE(registry_->Issue(r).ok());
}

TEST_F(BadgeRegistryTest, SurvivesReopenAndKeepsCountingIds) {
  auto b = Issue("p-1", "AAAAAAAA");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(registry_->ReportLost(b->id(), "x").ok());
  Reopen();
  EXPECT_EQ(registry_->Get(b->id())->state(), BADGE_STATE_LOST);
  auto next = Issue("p-2", "BBBBBBBB");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id(), "b-00000002");
  EXPECT_EQ(Issue("p-3", "AAAAAAAA").status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(BadgeRegistryTest, FailedCommitChangesNothing) {
  auto b = Issue("p-1", "AAAAAAAA");
  ASSERT_TRUE(b.ok());
  store_.FailNextWrites(1);
  EXPECT_FALSE(registry_->ReportLost(b->id(), "x").ok());
  EXPECT_EQ(registry_->Get(b->id())->state(), BADGE_STATE_ACTIVE);
  store_.FailNextWrites(1);
  EXPECT_FALSE(Issue("p-2", "BBBBBBBB").ok());
  EXPECT_FALSE(registry_->FindByCard("BBBBBBBB").has_value());
  auto next = Issue("p-2", "BBBBBBBB");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id(), "b-00000002");
}

TEST_F(BadgeRegistryTest, ListsByPersonAndStateInPages) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Issue("p-" + std::to_string(i), "AAAAAAA" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(registry_->Revoke("b-00000002", "x").ok());
  auto page = registry_->List("", {}, "", 2);
  ASSERT_EQ(page.size(), 2u);
  auto rest = registry_->List("", {}, page.back().id(), 10);
  EXPECT_EQ(rest.size(), 3u);
  EXPECT_EQ(registry_->List("", BADGE_STATE_REVOKED, "", 10).size(), 1u);
  EXPECT_EQ(registry_->List("p-3", {}, "", 10).size(), 1u);
}

}  // namespace
}  // namespace iam::badge
