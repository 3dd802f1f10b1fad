#include "services/lifecycle/event_time.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace iam::lifecycle {
namespace {

bool ParsesAs(absl::string_view format, const std::string& text, absl::Time* t) {
  std::string error;
  return absl::ParseTime(format, text, absl::UTCTimeZone(), t, &error);
}

}  // namespace

absl::StatusOr<absl::Time> ParseEffectiveTime(absl::string_view text,
                                              absl::Time now,
                                              absl::string_view field) {
  std::string s(absl::StripAsciiWhitespace(text));
  if (s.empty()) return now;
  if (s.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is too long: use RFC 3339, e.g. "
                            "2026-07-01T00:00:00+08:00"));
  }
  // Accept a space for the 'T' (spreadsheets write it that way).
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  absl::Time t;
  if (ParsesAs("%Y-%m-%dT%H:%M:%E*S%Ez", s, &t) ||
      ParsesAs("%Y-%m-%dT%H:%M%Ez", s, &t)) {
    if (t < absl::FromCivil(absl::CivilSecond(2000, 1, 1), absl::UTCTimeZone()) ||
        t >= absl::FromCivil(absl::CivilSecond(2201, 1, 1), absl::UTCTimeZone())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " \"", s, "\" is outside the years 2000-2200"));
    }
    // Seconds precision: events apply "at that second".
    return absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  }
  absl::Time ignored;
  if (ParsesAs("%Y-%m-%dT%H:%M:%E*S", s, &ignored) ||
      ParsesAs("%Y-%m-%dT%H:%M", s, &ignored) ||
      ParsesAs("%Y-%m-%d", s, &ignored)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", s,
        "\" has no time zone; add the offset of the site's local time or Z "
        "for UTC, e.g. ",
        s.size() == 10 ? absl::StrCat(s, "T00:00:00+08:00")
                       : absl::StrCat(s, "+08:00")));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, " \"", s,
      "\" is not an RFC 3339 time; write it as 2026-07-01T00:00:00+08:00 "
      "(or Z for UTC)"));
}

std::string FormatEffectiveTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace iam::lifecycle
