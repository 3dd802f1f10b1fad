#include "services/audit/alerts.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/audit/record_format.h"

namespace iam::audit {
namespace {

using iam::v1::AuditAlertRule;
using iam::v1::AuditRecord;
using iam::v1::AuditRecordMatch;

constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
           c == '.' || c == '-';
  });
}

// "HH:MM" as minutes after midnight, or -1.
int ParseClock(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  int h = 0, m = 0;
  if (parts.size() != 2 || parts[0].size() != 2 || parts[1].size() != 2 ||
      !absl::SimpleAtoi(parts[0], &h) || !absl::SimpleAtoi(parts[1], &m) ||
      h < 0 || h > 23 || m < 0 || m > 59) {
    return -1;
  }
  return h * 60 + m;
}

int ParseDay(absl::string_view day) {
  for (int i = 0; i < 7; ++i) {
    if (day == kDays[i]) return i;
  }
  return -1;
}

absl::Status ValidateMatch(const AuditRecordMatch& m, absl::string_view where) {
  if (!m.outcome().empty() && m.outcome() != "SUCCESS" &&
      m.outcome() != "DENIED" && m.outcome() != "FAILED") {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": match.outcome must be SUCCESS, DENIED, FAILED or empty; got \"",
        m.outcome(), "\""));
  }
  if (m.actions().empty() && m.target_prefix().empty() && m.roles().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": match needs at least one of actions, target_prefix, roles "
               "(a rule on every record would alert on its own alerts' peers)"));
  }
  return absl::OkStatus();
}

bool OutcomeMatches(const std::string& want, iam::v1::AuditOutcome outcome) {
  if (want.empty()) return true;
  switch (outcome) {
    case iam::v1::AUDIT_OUTCOME_SUCCESS: return want == "SUCCESS";
    case iam::v1::AUDIT_OUTCOME_DENIED: return want == "DENIED";
    case iam::v1::AUDIT_OUTCOME_FAILED: return want == "FAILED";
    default: return false;
  }
}

bool Matches(const AuditRecordMatch& m, const AuditRecord& r) {
  if (!m.actions().empty() &&
      std::find(m.actions().begin(), m.actions().end(), r.action()) ==
          m.actions().end()) {
    return false;
  }
  if (!OutcomeMatches(m.outcome(), r.outcome())) return false;
  if (!absl::StartsWith(r.target(), m.target_prefix())) return false;
  if (!m.roles().empty()) {
    // A record may name several roles (one "role" label each).
    bool found = false;
    for (const std::string& want : m.roles()) {
      if (want == r.target()) found = true;
      for (const iam::v1::AuditLabel& label : r.labels()) {
        if (label.key() == "role" && label.value() == want) found = true;
      }
    }
    if (!found) return false;
  }
  return true;
}

AuditRecord NewAlert(const AuditAlertRule& rule, const AuditRecord& cause,
                     std::string reason) {
  AuditRecord alert;
  alert.set_kind(iam::v1::AUDIT_RECORD_KIND_ALERT);
  alert.set_caller(kAlertCaller);
  alert.set_action(kAlertAction);
  alert.set_target(rule.name());
  alert.set_person_id(cause.person_id());
  alert.set_outcome(iam::v1::AUDIT_OUTCOME_DENIED);
  alert.set_reason(rule.description().empty()
                       ? std::move(reason)
                       : absl::StrCat(rule.description(), ": ", reason));
  alert.set_revision(cause.revision());
  alert.set_time_unix_micros(cause.time_unix_micros());
  return alert;
}

}  // namespace

absl::Status ValidateAlertRules(const std::vector<AuditAlertRule>& rules) {
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < rules.size(); ++i) {
    const AuditAlertRule& rule = rules[i];
    const std::string where = absl::StrCat("audit_alert_rules[", i, "] (\"",
                                           rule.name(), "\")");
    if (!ValidName(rule.name())) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": name must be 1-64 chars of [a-z0-9_.-]"));
    }
    if (!names.insert(rule.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": another rule has the same name"));
    }
    const int conditions = rule.has_repeated_events() + rule.has_off_schedule() +
                           rule.has_any_record();
    if (conditions != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": set exactly one of repeated_events, off_schedule, "
                 "any_record; got ",
          conditions));
    }
    if (rule.has_repeated_events()) {
      const auto& c = rule.repeated_events();
      if (auto s = ValidateMatch(c.match(), where); !s.ok()) return s;
      if (c.count() < 2 || c.count() > 1000) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": repeated_events.count must be 2-1000; got ", c.count()));
      }
      if (c.window_seconds() < 1 || c.window_seconds() > 86400) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": repeated_events.window_seconds must be "
                                "1-86400; got ",
                         c.window_seconds()));
      }
      if (!c.per().empty() && c.per() != "person" && c.per() != "target") {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": repeated_events.per must be \"person\" or \"target\""));
      }
    }
    if (rule.has_off_schedule()) {
      const auto& c = rule.off_schedule();
      if (auto s = ValidateMatch(c.match(), where); !s.ok()) return s;
      absl::TimeZone zone;
      if (c.time_zone().empty() || !absl::LoadTimeZone(c.time_zone(), &zone)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": off_schedule.time_zone \"", c.time_zone(),
            "\" is not a known IANA time zone (e.g. Asia/Shanghai)"));
      }
      if (c.allowed().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": off_schedule needs at least one allowed shift"));
      }
      for (int j = 0; j < c.allowed_size(); ++j) {
        const iam::v1::Shift& shift = c.allowed(j);
        if (shift.days().empty()) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": allowed[", j, "] needs days (\"mon\" .. \"sun\")"));
        }
        for (const std::string& day : shift.days()) {
          if (ParseDay(day) < 0) {
            return absl::InvalidArgumentError(
                absl::StrCat(where, ": allowed[", j, "]: day \"", day,
                             "\" is not one of mon tue wed thu fri sat sun"));
          }
        }
        if (ParseClock(shift.start()) < 0 || ParseClock(shift.end()) < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": allowed[", j,
                           "]: start and end must be \"HH:MM\" (00:00-23:59)"));
        }
      }
    }
    if (rule.has_any_record()) {
      if (auto s = ValidateMatch(rule.any_record(), where); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AlertEvaluator>> AlertEvaluator::Create(
    std::vector<AuditAlertRule> rules) {
  if (auto s = ValidateAlertRules(rules); !s.ok()) return s;
  std::vector<Rule> compiled;
  for (AuditAlertRule& proto : rules) {
    Rule rule;
    if (proto.has_off_schedule()) {
      absl::LoadTimeZone(proto.off_schedule().time_zone(), &rule.zone);
      for (const iam::v1::Shift& s : proto.off_schedule().allowed()) {
        Shift shift;
        for (const std::string& day : s.days()) shift.days.push_back(ParseDay(day));
        shift.start_minute = ParseClock(s.start());
        shift.end_minute = ParseClock(s.end());
        rule.shifts.push_back(std::move(shift));
      }
    }
    rule.proto = std::move(proto);
    compiled.push_back(std::move(rule));
  }
  return std::unique_ptr<AlertEvaluator>(new AlertEvaluator(std::move(compiled)));
}

bool AlertEvaluator::InSchedule(const Rule& rule, absl::Time time) {
  const absl::CivilMinute local =
      absl::ToCivilMinute(time, rule.zone);
  const int day = static_cast<int>(absl::GetWeekday(absl::CivilDay(local)));
  const int minute = local.hour() * 60 + local.minute();
  // absl::Weekday: monday = 0 ... sunday = 6.
  const int yesterday = (day + 6) % 7;
  for (const Shift& s : rule.shifts) {
    auto on = [&](int d) {
      return std::find(s.days.begin(), s.days.end(), d) != s.days.end();
    };
    if (s.start_minute < s.end_minute) {
      if (on(day) && minute >= s.start_minute && minute < s.end_minute) return true;
    } else {  // overnight (or 24 h when equal)
      if (on(day) && minute >= s.start_minute) return true;
      if (on(yesterday) && minute < s.end_minute) return true;
    }
  }
  return false;
}

std::vector<AuditRecord> AlertEvaluator::Observe(const AuditRecord& record) {
  std::vector<AuditRecord> alerts;
  if (record.kind() == iam::v1::AUDIT_RECORD_KIND_ALERT) return alerts;
  const int64_t now = record.time_unix_micros();
  for (Rule& rule : rules_) {
    const AuditAlertRule& p = rule.proto;
    if (p.has_any_record()) {
      if (!Matches(p.any_record(), record)) continue;
      AuditRecord alert = NewAlert(
          p, record,
          absl::StrCat(record.action(), " on ", record.target(), " by ",
                       record.caller(), " (record ", record.sequence(), ")"));
      alert.add_alert_sequences(record.sequence());
      alerts.push_back(std::move(alert));
    } else if (p.has_off_schedule()) {
      if (!Matches(p.off_schedule().match(), record)) continue;
      const absl::Time when = absl::FromUnixMicros(now);
      if (InSchedule(rule, when)) continue;
      AuditRecord alert = NewAlert(
          p, record,
          absl::StrCat(record.action(), " on ", record.target(), " at ",
                       absl::FormatTime("%a %H:%M", when, rule.zone), " ",
                       p.off_schedule().time_zone(),
                       ", outside the allowed shifts (record ",
                       record.sequence(), ")"));
      alert.add_alert_sequences(record.sequence());
      alerts.push_back(std::move(alert));
    } else if (p.has_repeated_events()) {
      const auto& c = p.repeated_events();
      if (!Matches(c.match(), record)) continue;
      const bool per_target = c.per() == "target";
      const std::string& key = per_target ? record.target() : record.person_id();
      if (key.empty()) continue;
      const int64_t window = int64_t{c.window_seconds()} * 1000000;
      auto& recent = rule.recent[key];
      while (!recent.empty() && recent.front().first <= now - window) {
        recent.pop_front();
      }
      recent.emplace_back(now, record.sequence());
      if (static_cast<int>(recent.size()) >= c.count()) {
        AuditRecord alert = NewAlert(
            p, record,
            absl::StrCat(recent.size(), " ", record.action(), " records for ",
                         per_target ? "target " : "person ", key, " within ",
                         c.window_seconds(), " s"));
        if (per_target) alert.set_person_id("");
        for (const auto& [t, seq] : recent) alert.add_alert_sequences(seq);
        alerts.push_back(std::move(alert));
        recent.clear();  // counting starts afresh
      }
      // Now and then drop the keys whose records have all left the window.
      if (now - rule.last_sweep_micros > window) {
        rule.last_sweep_micros = now;
        for (auto it = rule.recent.begin(); it != rule.recent.end();) {
          auto& q = it->second;
          while (!q.empty() && q.front().first <= now - window) q.pop_front();
          if (q.empty()) {
            rule.recent.erase(it++);
          } else {
            ++it;
          }
        }
      }
    }
  }
  return alerts;
}

}  // namespace iam::audit
