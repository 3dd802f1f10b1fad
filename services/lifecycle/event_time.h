// Effective times of HR events: RFC 3339 with a mandatory time zone offset.
// An HR export without a zone is ambiguous by up to a day (a leaving date at
// midnight in Shenzhen is the afternoon before in UTC), so it is refused with
// a message that says how to fix it, never guessed. Stateless; thread-safe.
#ifndef IAM_SERVICES_LIFECYCLE_EVENT_TIME_H_
#define IAM_SERVICES_LIFECYCLE_EVENT_TIME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace iam::lifecycle {

// "2026-07-01T00:00:00+08:00", "2026-07-01T00:00:00Z" (also with a space for
// the "T" and fractional seconds, which are dropped). Empty means `now`.
// INVALID_ARGUMENT naming `field` for a missing zone, a malformed text, or a
// year outside 2000-2200.
absl::StatusOr<absl::Time> ParseEffectiveTime(absl::string_view text,
                                              absl::Time now,
                                              absl::string_view field = "effective_at");

// RFC 3339 in UTC, seconds precision: "2026-06-30T16:00:00Z".
std::string FormatEffectiveTime(absl::Time t);

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_EVENT_TIME_H_
