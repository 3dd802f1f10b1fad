// Conversions between iamctl's command-line words and API values: RFC3339
// times, durations, counts, and the enums of the IAM protos (person status,
// attestation type, audit outcome, policy change kind). Parsers return
// InvalidArgument with a message that says what is expected; formatters
// produce what the parsers accept. Pure functions; thread-safe.
#ifndef IAM_ADMIN_VALUES_H_
#define IAM_ADMIN_VALUES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/iam/v1/audit.pb.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/common.pb.h"
#include "proto/iam/v1/identity.pb.h"

namespace iam::admin {

// Parses an RFC3339 time such as "2026-12-31T18:00:00Z" or
// "2026-12-31T20:00:00+02:00". A time zone offset is required: a time without
// one would mean different instants on different machines.
absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text);

// RFC3339 in UTC with whole seconds, e.g. "2026-12-31T18:00:00Z".
std::string FormatRfc3339Utc(absl::Time time);
// As above for Unix seconds / microseconds; 0 formats as "" (never / unset).
std::string FormatUnixSeconds(int64_t seconds);
std::string FormatUnixMicros(int64_t micros);

// Parses a positive duration: Go-style as absl::ParseDuration accepts
// ("8h", "90m", "1h30m", "45s") or whole days ("7d").
absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view text);

// Parses a whole number in [min, max].
absl::StatusOr<int64_t> ParseInt(absl::string_view text, int64_t min,
                                 int64_t max);

// pending | active | suspended | left (case-insensitive).
absl::StatusOr<iam::v1::PersonStatus> ParsePersonStatus(absl::string_view text);
// "pending", ...; "unspecified" for the zero value.
std::string PersonStatusName(iam::v1::PersonStatus status);

// security-agreement | background-check.
absl::StatusOr<iam::v1::AttestationType> ParseAttestationType(
    absl::string_view text);
std::string AttestationTypeName(iam::v1::AttestationType type);

// success | denied | failed.
absl::StatusOr<iam::v1::AuditOutcome> ParseAuditOutcome(absl::string_view text);
std::string AuditOutcomeName(iam::v1::AuditOutcome outcome);

// "+", "-" or "~" for add, remove, change; "?" otherwise.
std::string PolicyChangeSign(iam::v1::PolicyChange::Kind kind);

}  // namespace iam::admin

#endif  // IAM_ADMIN_VALUES_H_
