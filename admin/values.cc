#include "admin/values.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace iam::admin {
namespace {

constexpr char kRfc3339Example[] = "2026-12-31T18:00:00Z";

}  // namespace

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text) {
  absl::Time time;
  std::string error;
  // RFC3339_full ends in %Ez, so an offset ("Z", "+08:00") must be present.
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid time \"", text,
                     "\": want RFC3339 with a time zone offset, e.g. ",
                     kRfc3339Example, " or 2026-12-31T20:00:00+02:00"));
  }
  return time;
}

std::string FormatRfc3339Utc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", time, absl::UTCTimeZone());
}

std::string FormatUnixSeconds(int64_t seconds) {
  if (seconds == 0) return "";
  return FormatRfc3339Utc(absl::FromUnixSeconds(seconds));
}

std::string FormatUnixMicros(int64_t micros) {
  if (micros == 0) return "";
  return FormatRfc3339Utc(absl::FromUnixMicros(micros));
}

absl::StatusOr<absl::Duration> ParsePositiveDuration(absl::string_view text) {
  absl::Duration duration;
  bool ok = false;
  if (absl::EndsWith(text, "d")) {
    int64_t days = 0;
    ok = absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) && days > 0 &&
         days <= 100 * 366;
    duration = absl::Hours(24) * days;
  } else {
    ok = absl::ParseDuration(text, &duration);
  }
  if (!ok || duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid duration \"", text,
        "\": want a positive duration such as 8h, 90m, 1h30m or 7d"));
  }
  return duration;
}

absl::StatusOr<int64_t> ParseInt(absl::string_view text, int64_t min,
                                 int64_t max) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid number \"", text, "\": want a whole number from ",
                     min, " to ", max));
  }
  return value;
}

absl::StatusOr<iam::v1::PersonStatus> ParsePersonStatus(
    absl::string_view text) {
  const std::string word = absl::AsciiStrToLower(text);
  if (word == "pending") return iam::v1::PERSON_STATUS_PENDING;
  if (word == "active") return iam::v1::PERSON_STATUS_ACTIVE;
  if (word == "suspended") return iam::v1::PERSON_STATUS_SUSPENDED;
  if (word == "left") return iam::v1::PERSON_STATUS_LEFT;
  return absl::InvalidArgumentError(
      absl::StrCat("invalid status \"", text,
                   "\": want pending, active, suspended or left"));
}

std::string PersonStatusName(iam::v1::PersonStatus status) {
  switch (status) {
    case iam::v1::PERSON_STATUS_PENDING:
      return "pending";
    case iam::v1::PERSON_STATUS_ACTIVE:
      return "active";
    case iam::v1::PERSON_STATUS_SUSPENDED:
      return "suspended";
    case iam::v1::PERSON_STATUS_LEFT:
      return "left";
    case iam::v1::PERSON_STATUS_UNSPECIFIED:
      return "unspecified";
    default:
      return absl::StrCat("status(", static_cast<int>(status), ")");
  }
}

absl::StatusOr<iam::v1::AttestationType> ParseAttestationType(
    absl::string_view text) {
  const std::string word = absl::AsciiStrToLower(text);
  if (word == "security-agreement") {
    return iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED;
  }
  if (word == "background-check") {
    return iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid attestation \"", text,
                   "\": want security-agreement or background-check"));
}

std::string AttestationTypeName(iam::v1::AttestationType type) {
  switch (type) {
    case iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED:
      return "security-agreement";
    case iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED:
      return "background-check";
    case iam::v1::ATTESTATION_TYPE_UNSPECIFIED:
      return "unspecified";
    default:
      return absl::StrCat("attestation(", static_cast<int>(type), ")");
  }
}

absl::StatusOr<iam::v1::AuditOutcome> ParseAuditOutcome(
    absl::string_view text) {
  const std::string word = absl::AsciiStrToLower(text);
  if (word == "success") return iam::v1::AUDIT_OUTCOME_SUCCESS;
  if (word == "denied") return iam::v1::AUDIT_OUTCOME_DENIED;
  if (word == "failed") return iam::v1::AUDIT_OUTCOME_FAILED;
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid outcome \"", text, "\": want success, denied or failed"));
}

std::string AuditOutcomeName(iam::v1::AuditOutcome outcome) {
  switch (outcome) {
    case iam::v1::AUDIT_OUTCOME_SUCCESS:
      return "success";
    case iam::v1::AUDIT_OUTCOME_DENIED:
      return "denied";
    case iam::v1::AUDIT_OUTCOME_FAILED:
      return "failed";
    case iam::v1::AUDIT_OUTCOME_UNSPECIFIED:
      return "unspecified";
    default:
      return absl::StrCat("outcome(", static_cast<int>(outcome), ")");
  }
}

std::string PolicyChangeSign(iam::v1::PolicyChange::Kind kind) {
  switch (kind) {
    case iam::v1::PolicyChange::KIND_ADD:
      return "+";
    case iam::v1::PolicyChange::KIND_REMOVE:
      return "-";
    case iam::v1::PolicyChange::KIND_CHANGE:
      return "~";
    default:
      return "?";
  }
}

}  // namespace iam::admin
