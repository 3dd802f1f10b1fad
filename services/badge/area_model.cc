#include "services/badge/area_model.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/status_macros.h"

namespace iam::badge {
namespace {

constexpr size_t kMaxIdLength = 64;

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "holiday '", text, "' is not a date of the form YYYY-MM-DD"));
  }
  return day;
}

absl::StatusOr<ScheduleRule> CompileSchedule(
    const iam::v1::AccessSchedule& schedule) {
  ScheduleRule rule;
  for (int i = 0; i < schedule.shifts_size(); ++i) {
    const iam::v1::Shift& s = schedule.shifts(i);
    std::string where = absl::StrCat("schedule.shifts[", i, "]: ");
    ShiftRule shift;
    if (s.days_size() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "days is empty; name at least one of mon..sun"));
    }
    for (const std::string& d : s.days()) {
      absl::StatusOr<absl::Weekday> day = ParseWeekday(d);
      if (!day.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, day.status().message()));
      }
      shift.days[static_cast<int>(*day)] = true;
    }
    absl::StatusOr<int> start = ParseClockMinute(s.start());
    absl::StatusOr<int> end = ParseClockMinute(s.end());
    if (!start.ok() || !end.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "start and end must be local times HH:MM, got '", s.start(),
          "' and '", s.end(), "'"));
    }
    shift.start_minute = *start;
    shift.end_minute = *end;
    rule.shifts.push_back(shift);
  }
  for (const std::string& h : schedule.holidays()) {
    ASSIGN_OR_RETURN(absl::CivilDay day, ParseDate(h));
    rule.holidays.insert(day);
  }
  return rule;
}

absl::Status CheckWindow(absl::string_view field, int value) {
  if (value < 0 || value > kMaxRuleWindowSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be 0-", kMaxRuleWindowSeconds, " seconds, got ", value));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AreaRule>> CompileArea(
    const iam::v1::Area& a, const AreaContext& context) {
  auto rule = std::make_unique<AreaRule>();
  rule->proto = a;
  if (a.scope().empty()) {
    return absl::InvalidArgumentError(
        "scope is required (e.g. \"site/sz/area/burning\")");
  }
  if (!context.scopes.empty() && !context.scopes.contains(a.scope())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scope '", a.scope(), "' is not declared in the policy's scopes"));
  }
  if (a.security_level() < 1 || a.security_level() > kMaxSecurityLevel) {
    return absl::InvalidArgumentError(absl::StrCat(
        "security_level must be 1-", kMaxSecurityLevel, ", got ",
        a.security_level()));
  }
  if (a.owner().empty()) {
    return absl::InvalidArgumentError("owner (a person id) is required");
  }
  if (!absl::LoadTimeZone(a.time_zone(), &rule->time_zone) ||
      a.time_zone().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time_zone '", a.time_zone(),
        "' is not a known IANA time zone (e.g. \"Asia/Shanghai\"); is "
        "tzdata installed?"));
  }
  if (a.anti_passback() == iam::v1::ANTI_PASSBACK_UNSPECIFIED) {
    rule->proto.set_anti_passback(iam::v1::ANTI_PASSBACK_OFF);
  }
  RETURN_IF_ERROR(
      CheckWindow("two_person_window_seconds", a.two_person_window_seconds()));
  RETURN_IF_ERROR(CheckWindow("visitor_escort_window_seconds",
                              a.visitor_escort_window_seconds()));
  if (a.security_level() == kMaxSecurityLevel &&
      a.two_person_window_seconds() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "security level ", kMaxSecurityLevel,
        " requires the two-person rule: set two_person_window_seconds"));
  }
  if (a.doors_size() == 0) {
    return absl::InvalidArgumentError("an area needs at least one door");
  }
  if (a.access_levels_size() == 0) {
    return absl::InvalidArgumentError(
        "an area needs at least one access level");
  }
  absl::flat_hash_set<std::string> level_names;
  for (int i = 0; i < a.access_levels_size(); ++i) {
    const iam::v1::AccessLevel& l = a.access_levels(i);
    std::string where = absl::StrCat("access_levels[", i, "] '", l.name(), "': ");
    if (!IsValidId(l.name())) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "name must be 1-64 chars of [a-z0-9_.-]"));
    }
    if (!level_names.insert(l.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, "repeated name"));
    }
    if (l.roles_size() == 0 && l.people_size() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "names no role and no person"));
    }
    LevelRule level;
    level.name = l.name();
    for (const std::string& r : l.roles()) {
      if (!context.roles.empty() && !context.roles.contains(r)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "role '", r, "' is not declared in the policy's roles"));
      }
      level.roles.insert(r);
    }
    for (const std::string& p : l.people()) {
      if (p.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where, "empty person id"));
      }
      level.people.insert(p);
    }
    absl::StatusOr<ScheduleRule> schedule = CompileSchedule(l.schedule());
    if (!schedule.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, schedule.status().message()));
    }
    level.schedule = *std::move(schedule);
    rule->levels.push_back(std::move(level));
  }
  return rule;
}

}  // namespace

absl::StatusOr<int> ParseClockMinute(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  int hour = 0, minute = 0;
  if (parts.size() != 2 || parts[0].size() != 2 || parts[1].size() != 2 ||
      !absl::SimpleAtoi(parts[0], &hour) ||
      !absl::SimpleAtoi(parts[1], &minute) || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a time HH:MM (00:00-23:59)"));
  }
  return hour * 60 + minute;
}

absl::StatusOr<absl::Weekday> ParseWeekday(absl::string_view text) {
  static constexpr absl::string_view kNames[] = {"mon", "tue", "wed", "thu",
                                                 "fri", "sat", "sun"};
  std::string lower = absl::AsciiStrToLower(text);
  for (int i = 0; i < 7; ++i) {
    if (lower == kNames[i]) return static_cast<absl::Weekday>(i);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a week day (mon, tue, ..., sun)"));
}

bool ScheduleRule::OpenAt(absl::Time t, const absl::TimeZone& tz,
                          std::string* why) const {
  const absl::CivilSecond local = absl::ToCivilSecond(t, tz);
  const absl::CivilDay day(local);
  if (holidays.count(day) > 0) {
    *why = absl::StrCat("holiday ", absl::FormatCivilTime(day));
    return false;
  }
  if (shifts.empty()) return true;
  const int minute = local.hour() * 60 + local.minute();
  const int today = static_cast<int>(absl::GetWeekday(day));
  const int yesterday = static_cast<int>(absl::GetWeekday(day - 1));
  for (const ShiftRule& s : shifts) {
    if (s.start_minute < s.end_minute) {
      if (s.days[today] && minute >= s.start_minute && minute < s.end_minute) {
        return true;
      }
    } else {  // runs past midnight
      if (s.days[today] && minute >= s.start_minute) return true;
      if (s.days[yesterday] && minute < s.end_minute) return true;
    }
  }
  *why = absl::StrCat("outside every shift (local time ",
                      absl::FormatTime("%a %H:%M", t, tz), ")");
  return false;
}

absl::StatusOr<std::shared_ptr<const AreaSet>> AreaSet::Build(
    const google::protobuf::RepeatedPtrField<iam::v1::Area>& areas,
    const AreaContext& context) {
  std::shared_ptr<AreaSet> set(new AreaSet);
  for (int i = 0; i < areas.size(); ++i) {
    const iam::v1::Area& a = areas.Get(i);
    std::string where = absl::StrCat("areas[", i, "] '", a.id(), "': ");
    if (!IsValidId(a.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "id must be 1-64 chars of [a-z0-9_.-]"));
    }
    if (set->by_id_.contains(a.id())) {
      return absl::InvalidArgumentError(absl::StrCat(where, "repeated id"));
    }
    absl::StatusOr<std::unique_ptr<AreaRule>> rule = CompileArea(a, context);
    if (!rule.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, rule.status().message()));
    }
    for (const iam::v1::Door& d : a.doors()) {
      if (!IsValidId(d.id())) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "door id '", d.id(), "' must be 1-64 chars of [a-z0-9_.-]"));
      }
      auto [it, added] = set->by_door_.emplace(d.id(), rule->get());
      if (!added) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "door '", d.id(), "' already belongs to area '",
            it->second->proto.id(), "'"));
      }
    }
    set->by_id_.emplace(a.id(), rule->get());
    set->areas_.push_back(*std::move(rule));
  }
  std::sort(set->areas_.begin(), set->areas_.end(),
            [](const auto& a, const auto& b) { return a->proto.id() < b->proto.id(); });
  return std::shared_ptr<const AreaSet>(std::move(set));
}

const AreaRule* AreaSet::FindArea(absl::string_view area_id) const {
  auto it = by_id_.find(area_id);
  return it == by_id_.end() ? nullptr : it->second;
}

const AreaRule* AreaSet::AreaOfDoor(absl::string_view door_id) const {
  auto it = by_door_.find(door_id);
  return it == by_door_.end() ? nullptr : it->second;
}

}  // namespace iam::badge
