// AreaSet: the key areas of the policy (iam.v1.Area), validated and compiled
// for decisions: doors indexed, time zones loaded, shifts and holidays parsed.
//
// Who may enter is an access level: listed people, or holders of listed
// roles at the area's scope (the role grants themselves come from authz; see
// grant_source.h). Each level has a schedule read in the area's time zone:
// shifts (a start and an end in local "HH:MM" on given week days; an end at
// or before the start runs past midnight) and holidays (local dates on which
// it admits no one).
//
// Immutable once built; thread-safe.
#ifndef IAM_SERVICES_BADGE_AREA_MODEL_H_
#define IAM_SERVICES_BADGE_AREA_MODEL_H_

#include <array>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/repeated_field.h"
#include "proto/iam/v1/policy.pb.h"

namespace iam::badge {

inline constexpr int kMaxSecurityLevel = 4;
inline constexpr int kMaxRuleWindowSeconds = 300;

// A compiled Shift.
struct ShiftRule {
  std::array<bool, 7> days{};  // indexed by absl::Weekday (monday = 0)
  int start_minute = 0;        // minutes after local midnight
  int end_minute = 0;
};

// A compiled AccessSchedule.
class ScheduleRule {
 public:
  // Whether the schedule admits at `t` in `tz`. If not, *why says why.
  bool OpenAt(absl::Time t, const absl::TimeZone& tz, std::string* why) const;

  std::vector<ShiftRule> shifts;  // empty: any time
  std::set<absl::CivilDay> holidays;
};

struct LevelRule {
  std::string name;
  absl::flat_hash_set<std::string> roles;
  absl::flat_hash_set<std::string> people;
  ScheduleRule schedule;
};

struct AreaRule {
  iam::v1::Area proto;  // as declared
  absl::TimeZone time_zone;
  std::vector<LevelRule> levels;
};

// What the policy around the areas declares, for cross-checks. Empty sets
// skip the corresponding check.
struct AreaContext {
  absl::flat_hash_set<std::string> scopes;
  absl::flat_hash_set<std::string> roles;
};

class AreaSet {
 public:
  // Validates and compiles `areas`. INVALID_ARGUMENT naming the area and the
  // field for: a bad or repeated id, a door id used twice (in any area), an
  // unknown time zone, a malformed shift or holiday, a security level
  // outside 1-4, level 4 without the two-person rule, windows outside
  // 0-300 s, no access level, an access level naming nobody, or (with a
  // non-empty `context`) a scope or role the policy does not declare.
  static absl::StatusOr<std::shared_ptr<const AreaSet>> Build(
      const google::protobuf::RepeatedPtrField<iam::v1::Area>& areas,
      const AreaContext& context = {});

  // nullptr if unknown.
  const AreaRule* FindArea(absl::string_view area_id) const;
  const AreaRule* AreaOfDoor(absl::string_view door_id) const;
  // Ordered by id.
  const std::vector<std::unique_ptr<AreaRule>>& areas() const { return areas_; }

 private:
  AreaSet() = default;
  std::vector<std::unique_ptr<AreaRule>> areas_;
  absl::flat_hash_map<std::string, const AreaRule*> by_id_;
  absl::flat_hash_map<std::string, const AreaRule*> by_door_;
};

// "HH:MM" (00:00-23:59) to minutes after midnight.
absl::StatusOr<int> ParseClockMinute(absl::string_view text);
// "mon".."sun".
absl::StatusOr<absl::Weekday> ParseWeekday(absl::string_view text);

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_AREA_MODEL_H_
