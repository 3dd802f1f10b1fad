#include "services/badge/door_list.h"

#include <memory>
#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/badge/fake_grant_source.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::badge {
namespace {

constexpr char kAreas[] = R"pb(
  areas {
    id: "burning"
    scope: "site/sz/area/burning"
    security_level: 2
    owner: "p-owner"
    time_zone: "Asia/Shanghai"
    doors { id: "b-1" }
    access_levels { name: "techs" roles: "burning_technician" }
    access_levels { name: "listed" people: "p-listed" }
  }
)pb";

class DoorListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    iam::v1::PolicyDocument doc;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kAreas, &doc));
    areas_ = std::move(*AreaRegistry::Open(&store_));
    ASSERT_TRUE(areas_->Apply(doc).ok());
    badges_ = std::move(*BadgeRegistry::Open(&store_, &clock_));
    signer_ = std::move(*ListSigner::Ephemeral());
    lists_ = std::make_unique<DoorListPublisher>(areas_.get(), badges_.get(),
                                                 signer_.get(), &clock_,
                                                 DoorListPublisher::Options{});
    lists_->set_grant_source(&grants_);
    for (const char* p : {"p-tech", "p-listed", "p-none"}) {
      grants_.SetStatus(p, iam::v1::PERSON_STATUS_ACTIVE);
    }
    grants_.Grant("p-tech", "site/sz/area/burning", "burning_technician",
                  clock_.Now() + absl::Hours(2));
    Issue("p-tech", "11111111");
    Issue("p-listed", "22222222");
    Issue("p-none", "33333333");
  }
  void Issue(const std::string& person, const std::string& card) {
    BadgeRegistry::IssueRequest r;
    r.person_id = person;
    r.card_number = card;
    r.expires_at = clock_.Now() + absl::Hours(24);
    r.reason = "test";
    ASSERT_TRUE(badges_->Issue(r).ok());
  }
  iam::v1::DoorListPayload Open(const iam::v1::SignedDoorList& list) {
    EXPECT_TRUE(VerifySignature(signer_->public_key(), list.payload(), list.signature()).ok());
    EXPECT_EQ(list.key_id(), signer_->key_id());
    iam::v1::DoorListPayload p;
    EXPECT_TRUE(p.ParseFromString(list.payload()));
    return p;
  }

  MemoryStore store_{{"badge"}};
  FakeClock clock_{absl::FromUnixSeconds(1800000000)};
  FakeGrantSource grants_;
  std::unique_ptr<AreaRegistry> areas_;
  std::unique_ptr<BadgeRegistry> badges_;
  std::unique_ptr<ListSigner> signer_;
  std::unique_ptr<DoorListPublisher> lists_;
};

TEST_F(DoorListTest, FullListNamesWhoMayPassAndUntilWhen) {
  auto list = lists_->Full("b-1");
  ASSERT_TRUE(list.ok()) << list.status();
  iam::v1::DoorListPayload p = Open(*list);
  EXPECT_TRUE(p.full());
  EXPECT_EQ(p.area().id(), "burning");
  ASSERT_EQ(p.entries_size(), 2);
  EXPECT_EQ(p.entries(0).person_id(), "p-tech");
  EXPECT_EQ(p.entries(0).access_levels(0), "techs");
  // The grant ends before the badge does.
  EXPECT_EQ(p.entries(0).valid_until_unix(),
            absl::ToUnixSeconds(clock_.Now() + absl::Hours(2)));
  EXPECT_EQ(p.entries(1).person_id(), "p-listed");
  EXPECT_EQ(p.entries(1).valid_until_unix(),
            absl::ToUnixSeconds(clock_.Now() + absl::Hours(24)));
  EXPECT_EQ(p.valid_until_unix(), absl::ToUnixSeconds(clock_.Now() + absl::Hours(24)));
}

TEST_F(DoorListTest, RevocationIsInTheNextDelta) {
  iam::v1::DoorListPayload full = Open(*lists_->Full("b-1"));
  // Nothing changed: an empty delta at the same version.
  iam::v1::DoorListPayload same = Open(*lists_->Delta("b-1", full.epoch(), full.version()));
  EXPECT_FALSE(same.full());
  EXPECT_EQ(same.version(), full.version());
  EXPECT_EQ(same.entries_size() + same.removed_card_numbers_size(), 0);

  ASSERT_TRUE(badges_->ReportLost(badges_->FindByCard("22222222")->id(), "lost").ok());
  grants_.SetStatus("p-tech", iam::v1::PERSON_STATUS_SUSPENDED);
  grants_.Grant("p-none", "site/sz/area/burning", "burning_technician");
  iam::v1::DoorListPayload delta =
      Open(*lists_->Delta("b-1", full.epoch(), full.version()));
  EXPECT_FALSE(delta.full());
  EXPECT_GT(delta.version(), full.version());
  EXPECT_EQ(delta.since_version(), full.version());
  ASSERT_EQ(delta.removed_card_numbers_size(), 2);
  EXPECT_EQ(delta.removed_card_numbers(0), "11111111");
  EXPECT_EQ(delta.removed_card_numbers(1), "22222222");
  ASSERT_EQ(delta.entries_size(), 1);
  EXPECT_EQ(delta.entries(0).person_id(), "p-none");
}

TEST_F(DoorListTest, OtherEpochOrUnknownVersionGetsAFullList) {
  iam::v1::DoorListPayload full = Open(*lists_->Full("b-1"));
  EXPECT_TRUE(Open(*lists_->Delta("b-1", "another-epoch", full.version())).full());
  EXPECT_TRUE(Open(*lists_->Delta("b-1", full.epoch(), full.version() + 5)).full());
  EXPECT_EQ(lists_->Delta("b-1", full.epoch(), -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(lists_->Full("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DoorListTest, AFailingGrantSourceFailsTheListInsteadOfDroppingPeople) {
  grants_.set_failing(true);
  EXPECT_EQ(lists_->Full("b-1").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace iam::badge
