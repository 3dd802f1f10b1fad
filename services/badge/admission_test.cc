#include "services/badge/admission.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/badge/fake_grant_source.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::badge {
namespace {

using iam::v1::DIRECTION_ENTRY;
using iam::v1::DIRECTION_EXIT;

constexpr char kAreas[] = R"pb(
  areas {
    id: "burning"
    scope: "site/sz/area/burning"
    security_level: 3
    owner: "p-owner"
    time_zone: "Asia/Shanghai"
    doors { id: "b-1" }
    doors { id: "b-2" }
    anti_passback: ANTI_PASSBACK_HARD
    visitor_escort_window_seconds: 60
    access_levels {
      name: "technicians"
      roles: "burning_technician"
      schedule {
        shifts { days: [ "mon", "tue", "wed", "thu", "fri" ] start: "08:00" end: "18:00" }
      }
    }
  }
  areas {
    id: "vault"
    scope: "site/sz/area/key_parts"
    security_level: 4
    owner: "p-owner"
    time_zone: "Asia/Shanghai"
    doors { id: "v-1" }
    anti_passback: ANTI_PASSBACK_SOFT
    two_person_window_seconds: 30
    access_levels { name: "keyholders" people: [ "p-a", "p-b" ] }
  }
)pb";

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::TimeZone tz;
    ASSERT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &tz));
    clock_.Set(absl::FromCivil(absl::CivilMinute(2026, 9, 28, 10, 0), tz));  // Mon
    iam::v1::PolicyDocument doc;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kAreas, &doc));
    auto areas = AreaRegistry::Open(&store_);
    ASSERT_TRUE(areas.ok());
    areas_ = std::move(*areas);
    ASSERT_TRUE(areas_->Apply(doc).ok());
    auto badges = BadgeRegistry::Open(&store_, &clock_);
    ASSERT_TRUE(badges.ok());
    badges_ = std::move(*badges);
    OpenAdmitter();
    for (const char* p : {"p-tech", "p-a", "p-b", "p-visitor", "p-other"}) {
      grants_.SetStatus(p, iam::v1::PERSON_STATUS_ACTIVE);
    }
    grants_.Grant("p-tech", "site/sz/area/burning", "burning_technician");
    Issue("p-tech", "11111111");
    Issue("p-a", "AAAAAAAA");
    Issue("p-b", "BBBBBBBB");
    Issue("p-other", "00000000");
    Issue("p-visitor", "99999999", iam::v1::BADGE_KIND_VISITOR);
  }

  void OpenAdmitter() {
    auto admitter = Admitter::Open(areas_.get(), badges_.get(), &store_, &clock_, {});
    ASSERT_TRUE(admitter.ok());
    admitter_ = std::move(*admitter);
    admitter_->set_grant_source(&grants_);
  }

  void Issue(const std::string& person, const std::string& card,
             iam::v1::BadgeKind kind = iam::v1::BADGE_KIND_EMPLOYEE) {
    BadgeRegistry::IssueRequest r;
    r.person_id = person;
    r.card_number = card;
    r.kind = kind;
    r.expires_at = clock_.Now() + absl::Hours(24 * 30);
    r.reason = "test";
    ASSERT_TRUE(badges_->Issue(r).ok());
  }

  AdmitDecision Present(const std::string& door, const std::string& card,
                        iam::v1::Direction direction = DIRECTION_ENTRY) {
    AdmitInput in;
    in.door_id = door;
    in.card_number = card;
    in.direction = direction;
    in.presented_at_unix_micros = absl::ToUnixMicros(clock_.Now());
    return admitter_->Admit(in, [&](const AdmitDecision& d) {
      recorded_.push_back(d);
      return record_status_;
    });
  }

  MemoryStore store_{{"badge"}};
  FakeClock clock_{absl::UnixEpoch()};
  FakeGrantSource grants_;
  std::unique_ptr<AreaRegistry> areas_;
  std::unique_ptr<BadgeRegistry> badges_;
  std::unique_ptr<Admitter> admitter_;
  std::vector<AdmitDecision> recorded_;
  absl::Status record_status_ = absl::OkStatus();
};

TEST_F(AdmissionTest, AdmitsAGrantedEmployeeInShiftAndRecordsIt) {
  AdmitDecision d = Present("b-1", "11111111");
  EXPECT_TRUE(d.admitted) << d.reason;
  EXPECT_EQ(d.person_id, "p-tech");
  EXPECT_EQ(d.area_id, "burning");
  EXPECT_NE(d.reason.find("technicians (role burning_technician)"), std::string::npos)
      << d.reason;
  ASSERT_EQ(recorded_.size(), 1u);
  EXPECT_TRUE(recorded_[0].admitted);
  EXPECT_TRUE(admitter_->IsInside("burning", d.badge_id));
}

TEST_F(AdmissionTest, UnknownOrMalformedInputDeniesWithAReasonAndIsRecorded) {
  struct Case {
    std::string door, card;
    iam::v1::Direction direction;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {"nope", "11111111", DIRECTION_ENTRY, "unknown door"},
           {"b-1", "11111111", iam::v1::DIRECTION_UNSPECIFIED, "direction"},
           {"b-1", "xyz", DIRECTION_ENTRY, "malformed card number"},
           {"b-1", "12345678", DIRECTION_ENTRY, "unknown card 12345678"},
       }) {
    AdmitDecision d = Present(c.door, c.card, c.direction);
    EXPECT_FALSE(d.admitted);
    EXPECT_NE(d.reason.find(c.reason), std::string::npos) << d.reason;
  }
  EXPECT_EQ(recorded_.size(), 4u);
}

TEST_F(AdmissionTest, DeniesATimeFarFromTheServers) {
  AdmitInput in;
  in.door_id = "b-1";
  in.card_number = "11111111";
  in.direction = DIRECTION_ENTRY;
  in.presented_at_unix_micros = absl::ToUnixMicros(clock_.Now() - absl::Hours(2));
  AdmitDecision d = admitter_->Admit(in, [](const AdmitDecision&) { return absl::OkStatus(); });
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("fix the controller's clock"), std::string::npos) << d.reason;
  in.presented_at_unix_micros = 0;
  EXPECT_FALSE(admitter_->Admit(in, [](const AdmitDecision&) { return absl::OkStatus(); }).admitted);
}

TEST_F(AdmissionTest, DeniesOutsideTheShift) {
  clock_.Advance(absl::Hours(9));  // 19:00 local
  AdmitDecision d = Present("b-1", "11111111");
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("outside every shift"), std::string::npos) << d.reason;
}

TEST_F(AdmissionTest, DeniesWithoutGrantOrActiveStatusOrWhenUnsure) {
  AdmitDecision d = Present("b-1", "00000000");
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("no access level"), std::string::npos) << d.reason;

  grants_.SetStatus("p-tech", iam::v1::PERSON_STATUS_SUSPENDED);
  clock_.Advance(absl::Seconds(5));
  d = Present("b-1", "11111111");
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("is suspended"), std::string::npos) << d.reason;

  grants_.SetStatus("p-tech", iam::v1::PERSON_STATUS_ACTIVE);
  grants_.set_failing(true);
  clock_.Advance(absl::Seconds(5));
  d = Present("b-1", "11111111");
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("cannot check"), std::string::npos) << d.reason;
}

TEST_F(AdmissionTest, AnExpiredGrantStopsAdmittingAtThatSecond) {
  grants_.RevokeAll("p-tech");
  grants_.Grant("p-tech", "site/sz/area/burning", "burning_technician",
                clock_.Now() + absl::Seconds(10));
  clock_.Advance(absl::Seconds(9));
  EXPECT_TRUE(Present("b-1", "11111111").admitted);
  EXPECT_TRUE(Present("b-1", "11111111", DIRECTION_EXIT).admitted);
  clock_.Advance(absl::Seconds(1));
  AdmitDecision d = Present("b-1", "11111111");
  EXPECT_FALSE(d.admitted) << d.reason;
}

TEST_F(AdmissionTest, SuspendedLostAndExpiredBadgesDeny) {
  auto badge = badges_->FindByCard("11111111");
  ASSERT_TRUE(badges_->SuspendAllOf("p-tech", "HR").ok());
  AdmitDecision d = Present("b-1", "11111111");
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("is suspended"), std::string::npos) << d.reason;
  ASSERT_TRUE(badges_->ReportLost(badge->id(), "lost").ok());
  clock_.Advance(absl::Seconds(5));
  d = Present("b-1", "11111111");
  EXPECT_NE(d.reason.find("is lost"), std::string::npos) << d.reason;
  clock_.Advance(absl::Hours(24 * 31));
  d = Present("b-1", "AAAAAAAA");
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("expired"), std::string::npos) << d.reason;
}

TEST_F(AdmissionTest, HardAntiPassbackNeedsAnExitBetweenEntries) {
  ASSERT_TRUE(Present("b-1", "11111111").admitted);
  AdmitDecision again = Present("b-1", "11111111");
  EXPECT_FALSE(again.admitted);
  EXPECT_NE(again.reason.find("anti-passback"), std::string::npos) << again.reason;
  EXPECT_TRUE(Present("b-1", "11111111", DIRECTION_EXIT).admitted);
  EXPECT_TRUE(Present("b-1", "11111111").admitted);
}

TEST_F(AdmissionTest, PresenceSurvivesARestart) {
  ASSERT_TRUE(Present("b-1", "11111111").admitted);
  OpenAdmitter();
  EXPECT_FALSE(Present("b-1", "11111111").admitted);
}

TEST_F(AdmissionTest, SameBadgeAtTwoDoorsAtOnceDenies) {
  ASSERT_TRUE(Present("b-1", "11111111").admitted);
  clock_.Advance(absl::Seconds(1));
  AdmitDecision d = Present("b-2", "11111111", DIRECTION_EXIT);
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("two doors at once"), std::string::npos) << d.reason;
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(Present("b-2", "11111111", DIRECTION_EXIT).admitted);
}

TEST_F(AdmissionTest, TwoPersonRuleNeedsASecondPersonWithinTheWindow) {
  AdmitDecision first = Present("v-1", "AAAAAAAA");
  EXPECT_FALSE(first.admitted);
  EXPECT_NE(first.reason.find("two-person rule: waiting"), std::string::npos);
  // The same person again does not count as the second.
  clock_.Advance(absl::Seconds(4));
  EXPECT_FALSE(Present("v-1", "AAAAAAAA").admitted);
  clock_.Advance(absl::Seconds(10));
  AdmitDecision second = Present("v-1", "BBBBBBBB");
  EXPECT_TRUE(second.admitted) << second.reason;
  EXPECT_EQ(second.companion_person_id, "p-a");
  EXPECT_TRUE(admitter_->IsInside("vault", badges_->FindByCard("AAAAAAAA")->id()));
  // Out, and a lone badge after the window waits again.
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(Present("v-1", "AAAAAAAA", DIRECTION_EXIT).admitted);
  EXPECT_TRUE(Present("v-1", "BBBBBBBB", DIRECTION_EXIT).admitted);
  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(Present("v-1", "AAAAAAAA").admitted);
  clock_.Advance(absl::Seconds(31));
  EXPECT_FALSE(Present("v-1", "BBBBBBBB").admitted);
}

TEST_F(AdmissionTest, UnauthorizedSecondBadgeDoesNotCompleteTwoPerson) {
  EXPECT_FALSE(Present("v-1", "AAAAAAAA").admitted);
  clock_.Advance(absl::Seconds(4));
  AdmitDecision d = Present("v-1", "00000000");
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("no access level"), std::string::npos);
}

TEST_F(AdmissionTest, SoftAntiPassbackAdmitsButWarns) {
  EXPECT_FALSE(Present("v-1", "AAAAAAAA").admitted);
  ASSERT_TRUE(Present("v-1", "BBBBBBBB").admitted);
  clock_.Advance(absl::Seconds(4));
  EXPECT_FALSE(Present("v-1", "AAAAAAAA").admitted);
  AdmitDecision d = Present("v-1", "BBBBBBBB");
  EXPECT_TRUE(d.admitted);
  EXPECT_NE(d.reason.find("anti-passback warning"), std::string::npos) << d.reason;
}

TEST_F(AdmissionTest, VisitorsNeedAnEscort) {
  AdmitDecision alone = Present("b-1", "99999999");
  EXPECT_FALSE(alone.admitted);
  EXPECT_NE(alone.reason.find("escorted"), std::string::npos) << alone.reason;
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Present("b-1", "11111111").admitted);
  AdmitDecision escorted = Present("b-1", "99999999");
  EXPECT_TRUE(escorted.admitted) << escorted.reason;
  EXPECT_NE(escorted.reason.find("escorted by p-tech"), std::string::npos);
  // Not in an area without visitors.
  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(Present("v-1", "99999999").admitted);
}

TEST_F(AdmissionTest, AFailedRecordDeniesAndUndoesPresence) {
  record_status_ = absl::UnavailableError("disk full");
  AdmitDecision d = Present("b-1", "11111111");
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("could not be recorded"), std::string::npos);
  EXPECT_FALSE(admitter_->IsInside("burning", badges_->FindByCard("11111111")->id()));
  record_status_ = absl::OkStatus();
  EXPECT_TRUE(Present("b-1", "11111111").admitted);
}

// AdmitThen answers only from the record's completion, and the badge stays
// claimed until then: the same card at another door meanwhile is a clone.
TEST_F(AdmissionTest, AdmitThenAnswersOnlyOnceTheRecordCompletes) {
  AdmitInput in{"b-1", "11111111", DIRECTION_ENTRY, absl::ToUnixMicros(clock_.Now())};
  Admitter::RecordDone complete;
  std::vector<AdmitDecision> answered;
  admitter_->AdmitThen(
      in,
      [&](const AdmitDecision& d, WriteBatch presence, Admitter::RecordDone done) {
        EXPECT_TRUE(d.admitted) << d.reason;
        ASSERT_EQ(presence.ops().size(), 1u);  // inside, with the record
        EXPECT_TRUE(presence.ops()[0].value.has_value());
        complete = std::move(done);
      },
      [&](AdmitDecision d) { answered.push_back(std::move(d)); });
  ASSERT_TRUE(complete);
  EXPECT_TRUE(answered.empty());
  AdmitDecision other = Present("b-2", "11111111", DIRECTION_EXIT);
  EXPECT_FALSE(other.admitted);
  EXPECT_NE(other.reason.find("two doors at once"), std::string::npos) << other.reason;

  complete(absl::OkStatus());
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_TRUE(answered[0].admitted) << answered[0].reason;
  EXPECT_TRUE(admitter_->IsInside("burning", answered[0].badge_id));
  // Released: once the two-doors window has passed, it exits.
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(Present("b-2", "11111111", DIRECTION_EXIT).admitted);
}

TEST_F(AdmissionTest, AdmitThenWithAFailedRecordDeniesAndUndoesPresence) {
  AdmitInput in{"b-1", "11111111", DIRECTION_ENTRY, absl::ToUnixMicros(clock_.Now())};
  Admitter::RecordDone complete;
  std::vector<AdmitDecision> answered;
  admitter_->AdmitThen(
      in,
      [&](const AdmitDecision&, WriteBatch, Admitter::RecordDone done) {
        complete = std::move(done);
      },
      [&](AdmitDecision d) { answered.push_back(std::move(d)); });
  ASSERT_TRUE(complete);
  const std::string badge = badges_->FindByCard("11111111")->id();
  EXPECT_TRUE(admitter_->IsInside("burning", badge));  // decided, not yet recorded
  complete(absl::UnavailableError("disk full"));
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_FALSE(answered[0].admitted);
  EXPECT_NE(answered[0].reason.find("could not be recorded durably (disk full)"),
            std::string::npos)
      << answered[0].reason;
  EXPECT_FALSE(admitter_->IsInside("burning", badge));
  EXPECT_TRUE(Present("b-1", "11111111").admitted);
}

TEST_F(AdmissionTest, ExitIsAdmittedForAnyIssuedBadge) {
  ASSERT_TRUE(Present("b-1", "11111111").admitted);
  ASSERT_TRUE(badges_->RevokeAllOf("p-tech", "left").ok());
  AdmitDecision d = Present("b-1", "11111111", DIRECTION_EXIT);
  EXPECT_TRUE(d.admitted);
  EXPECT_NE(d.reason.find("revoked"), std::string::npos) << d.reason;
  EXPECT_FALSE(Present("b-1", "11111111").admitted);
}

TEST_F(AdmissionTest, EntryDeniesUntilTheGrantSourceIsSet) {
  auto admitter = Admitter::Open(areas_.get(), badges_.get(), &store_, &clock_, {});
  ASSERT_TRUE(admitter.ok());
  AdmitInput in{"b-1", "11111111", DIRECTION_ENTRY, absl::ToUnixMicros(clock_.Now())};
  AdmitDecision d = (*admitter)->Admit(in, [](const AdmitDecision&) { return absl::OkStatus(); });
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("starting"), std::string::npos);
}

}  // namespace
}  // namespace iam::badge
