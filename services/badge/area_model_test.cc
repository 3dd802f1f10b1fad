#include "services/badge/area_model.h"

#include <string>

#include "absl/time/civil_time.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace iam::badge {
namespace {

google::protobuf::RepeatedPtrField<iam::v1::Area> Parse(const std::string& text) {
  iam::v1::PolicyDocument doc;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &doc)) << text;
  return doc.areas();
}

constexpr char kBurning[] = R"pb(
  areas {
    id: "sz-burning"
    scope: "site/sz/area/burning"
    security_level: 3
    owner: "p-owner"
    time_zone: "Asia/Shanghai"
    doors { id: "sz-burning-1" }
    doors { id: "sz-burning-2" }
    anti_passback: ANTI_PASSBACK_HARD
    access_levels {
      name: "day"
      roles: "burning_technician"
      schedule {
        shifts { days: [ "mon", "tue", "wed", "thu", "fri" ] start: "08:00" end: "18:00" }
        holidays: "2026-10-01"
      }
    }
    access_levels {
      name: "night"
      people: "p-night"
      schedule { shifts { days: "fri" start: "22:00" end: "06:00" } }
    }
  }
)pb";

absl::Time Local(int y, int mo, int d, int h, int mi) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &tz));
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), tz);
}

TEST(AreaSetTest, IndexesAreasAndDoors) {
  auto set = AreaSet::Build(Parse(kBurning));
  ASSERT_TRUE(set.ok()) << set.status();
  const AreaRule* area = (*set)->AreaOfDoor("sz-burning-2");
  ASSERT_NE(area, nullptr);
  EXPECT_EQ(area->proto.id(), "sz-burning");
  EXPECT_EQ((*set)->FindArea("sz-burning"), area);
  EXPECT_EQ((*set)->AreaOfDoor("nope"), nullptr);
  ASSERT_EQ(area->levels.size(), 2u);
  EXPECT_TRUE(area->levels[0].roles.contains("burning_technician"));
}

TEST(AreaSetTest, DayShiftOpensOnlyOnWorkdaysInTheSiteTimeZone) {
  auto set = AreaSet::Build(Parse(kBurning));
  ASSERT_TRUE(set.ok()) << set.status();
  const AreaRule& area = *(*set)->FindArea("sz-burning");
  const ScheduleRule& day = area.levels[0].schedule;
  std::string why;
  // 2026-09-28 is a Monday.
  EXPECT_TRUE(day.OpenAt(Local(2026, 9, 28, 9, 0), area.time_zone, &why));
  EXPECT_TRUE(day.OpenAt(Local(2026, 9, 28, 8, 0), area.time_zone, &why));
  EXPECT_FALSE(day.OpenAt(Local(2026, 9, 28, 18, 0), area.time_zone, &why));
  EXPECT_NE(why.find("outside every shift"), std::string::npos) << why;
  EXPECT_FALSE(day.OpenAt(Local(2026, 10, 3, 9, 0), area.time_zone, &why));  // Sat
  // 09:00 in Shanghai is 01:00 UTC: the zone, not UTC, decides.
  EXPECT_TRUE(day.OpenAt(absl::FromCivil(absl::CivilMinute(2026, 9, 28, 1, 30),
                                         absl::UTCTimeZone()),
                         area.time_zone, &why));
}

TEST(AreaSetTest, HolidayClosesAndSaysSo) {
  auto set = AreaSet::Build(Parse(kBurning));
  ASSERT_TRUE(set.ok());
  const AreaRule& area = *(*set)->FindArea("sz-burning");
  std::string why;
  EXPECT_FALSE(area.levels[0].schedule.OpenAt(Local(2026, 10, 1, 10, 0),
                                              area.time_zone, &why));
  EXPECT_EQ(why, "holiday 2026-10-01");
}

TEST(AreaSetTest, OvernightShiftRunsIntoTheNextDay) {
  auto set = AreaSet::Build(Parse(kBurning));
  ASSERT_TRUE(set.ok());
  const AreaRule& area = *(*set)->FindArea("sz-burning");
  const ScheduleRule& night = area.levels[1].schedule;
  std::string why;
  EXPECT_TRUE(night.OpenAt(Local(2026, 10, 2, 23, 0), area.time_zone, &why));   // Fri
  EXPECT_TRUE(night.OpenAt(Local(2026, 10, 3, 5, 59), area.time_zone, &why));   // Sat
  EXPECT_FALSE(night.OpenAt(Local(2026, 10, 3, 6, 0), area.time_zone, &why));
  EXPECT_FALSE(night.OpenAt(Local(2026, 10, 3, 23, 0), area.time_zone, &why));  // Sat
  EXPECT_FALSE(night.OpenAt(Local(2026, 10, 1, 2, 0), area.time_zone, &why));   // Thu
}

struct BadCase {
  std::string edit_from, edit_to, message;
};

class AreaSetRejectsTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(AreaSetRejectsTest, NamesTheProblem) {
  std::string text = kBurning;
  size_t at = text.find(GetParam().edit_from);
  ASSERT_NE(at, std::string::npos) << GetParam().edit_from;
  text.replace(at, GetParam().edit_from.size(), GetParam().edit_to);
  auto set = AreaSet::Build(Parse(text));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(set.status().message().find(GetParam().message), std::string::npos)
      << set.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AreaSetRejectsTest,
    ::testing::Values(
        BadCase{"Asia/Shanghai", "Mars/Olympus", "time_zone 'Mars/Olympus'"},
        BadCase{"security_level: 3", "security_level: 4", "two-person rule"},
        BadCase{"security_level: 3", "security_level: 9", "security_level must be 1-4"},
        BadCase{"\"08:00\"", "\"8am\"", "HH:MM"},
        BadCase{"\"2026-10-01\"", "\"2026-13-01\"", "YYYY-MM-DD"},
        BadCase{"\"mon\",", "\"monday\",", "week day"},
        BadCase{"people: \"p-night\"", "", "names no role and no person"},
        BadCase{"sz-burning-2", "sz-burning-1", "already belongs"},
        BadCase{"id: \"sz-burning\"", "id: \"SZ Burning\"", "id must be"},
        BadCase{"owner: \"p-owner\"", "", "owner"},
        BadCase{"anti_passback", "two_person_window_seconds: 301 anti_passback",
                "0-300"}));

TEST(AreaSetTest, ChecksScopesAndRolesAgainstThePolicy) {
  AreaContext context;
  context.scopes = {"site/sz/area/burning"};
  context.roles = {"line_operator"};
  auto set = AreaSet::Build(Parse(kBurning), context);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("role 'burning_technician'"),
            std::string::npos)
      << set.status().message();
  context.roles.insert("burning_technician");
  context.scopes = {"site/hz"};
  set = AreaSet::Build(Parse(kBurning), context);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("scope 'site/sz/area/burning'"),
            std::string::npos);
}

TEST(AreaSetTest, ParsesClockTimesAndWeekdays) {
  EXPECT_EQ(*ParseClockMinute("00:00"), 0);
  EXPECT_EQ(*ParseClockMinute("23:59"), 23 * 60 + 59);
  EXPECT_FALSE(ParseClockMinute("24:00").ok());
  EXPECT_FALSE(ParseClockMinute("7:00").ok());
  EXPECT_EQ(*ParseWeekday("SUN"), absl::Weekday::sunday);
  EXPECT_FALSE(ParseWeekday("").ok());
}

}  // namespace
}  // namespace iam::badge
