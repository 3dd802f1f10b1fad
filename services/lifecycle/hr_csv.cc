#include "services/lifecycle/hr_csv.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/lifecycle/event_time.h"

namespace iam::lifecycle {
namespace {

const std::vector<std::string>& KnownColumns() {
  static const auto* columns = new std::vector<std::string>{
      "event_id", "type",     "person_id",  "effective_at", "display_name",
      "org_unit", "job_code", "site",       "manager_id",   "reason"};
  return *columns;
}

struct Record {
  int line;
  std::vector<std::string> fields;
};

// Splits RFC 4180 CSV into records. A quote left open is an error.
absl::StatusOr<std::vector<Record>> SplitCsv(absl::string_view text) {
  std::vector<Record> records;
  Record current{1, {}};
  std::string field;
  bool in_quotes = false, field_started = false;
  int line = 1;
  int quote_line = 0;
  auto end_field = [&] {
    current.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    // A blank line is no record.
    if (!(current.fields.size() == 1 && current.fields[0].empty())) {
      records.push_back(std::move(current));
    }
    current = Record{line, {}};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
      quote_line = line;
    } else if (c == ',') {
      end_field();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      ++line;
      end_record();
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (in_quotes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", quote_line, ": a quoted field is never closed; close it with \""));
  }
  if (field_started || !current.fields.empty()) end_record();
  return records;
}

absl::StatusOr<iam::v1::HrEventType> ParseType(const std::string& raw) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
  if (t == "hire") return iam::v1::HR_EVENT_TYPE_HIRE;
  if (t == "move") return iam::v1::HR_EVENT_TYPE_MOVE;
  if (t == "leave") return iam::v1::HR_EVENT_TYPE_LEAVE;
  if (t == "suspend") return iam::v1::HR_EVENT_TYPE_SUSPEND;
  if (t == "reinstate") return iam::v1::HR_EVENT_TYPE_REINSTATE;
  return absl::InvalidArgumentError(absl::StrCat(
      "type \"", raw, "\" is not one of hire, move, leave, suspend, reinstate"));
}

}  // namespace

iam::v1::HrEvent* HrRow::mutable_event() {
  switch (type) {
    case iam::v1::HR_EVENT_TYPE_HIRE:
      return hire.mutable_event();
    case iam::v1::HR_EVENT_TYPE_MOVE:
      return move.mutable_event();
    case iam::v1::HR_EVENT_TYPE_LEAVE:
      return leave.mutable_event();
    case iam::v1::HR_EVENT_TYPE_SUSPEND:
      return suspend.mutable_event();
    default:
      return reinstate.mutable_event();
  }
}

std::string HrEventTypeName(iam::v1::HrEventType type) {
  switch (type) {
    case iam::v1::HR_EVENT_TYPE_HIRE:
      return "hire";
    case iam::v1::HR_EVENT_TYPE_MOVE:
      return "move";
    case iam::v1::HR_EVENT_TYPE_LEAVE:
      return "leave";
    case iam::v1::HR_EVENT_TYPE_SUSPEND:
      return "suspend";
    case iam::v1::HR_EVENT_TYPE_REINSTATE:
      return "reinstate";
    default:
      return "?";
  }
}

absl::StatusOr<std::vector<HrRow>> ParseHrCsv(absl::string_view text, absl::Time now,
                                              size_t max_rows) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  absl::StatusOr<std::vector<Record>> records = SplitCsv(text);
  if (!records.ok()) return records.status();
  if (records->empty()) {
    return absl::InvalidArgumentError(
        "the file is empty; it needs a header row, e.g. "
        "event_id,type,person_id,effective_at,display_name,org_unit,job_code,"
        "site,manager_id,reason");
  }
  if (records->size() - 1 > max_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the file has ", records->size() - 1, " rows; at most ", max_rows,
        " per import: split it"));
  }
  std::map<std::string, size_t> column;
  const Record& header = records->front();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header.fields[i]));
    const auto& known = KnownColumns();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line 1: unknown column \"", header.fields[i], "\"; the columns are ",
          absl::StrJoin(known, ", ")));
    }
    if (!column.emplace(name, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("line 1: column \"", name, "\" appears twice"));
    }
  }
  for (const char* required : {"event_id", "type", "person_id"}) {
    if (!column.count(required)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line 1: the header has no \"", required,
          "\" column (is the first row a header?)"));
    }
  }

  std::vector<HrRow> rows;
  std::map<std::string, int> event_lines;
  std::map<std::string, std::pair<int, std::string>> change_lines;
  for (size_t r = 1; r < records->size(); ++r) {
    const Record& rec = (*records)[r];
    HrRow row;
    row.line = rec.line;
    auto get = [&](const std::string& name) -> std::string {
      auto it = column.find(name);
      if (it == column.end() || it->second >= rec.fields.size()) return "";
      return std::string(absl::StripAsciiWhitespace(rec.fields[it->second]));
    };
    row.event_id = get("event_id");
    row.person_id = get("person_id");
    auto fail = [&](std::string message) {
      row.error = std::move(message);
      rows.push_back(std::move(row));
    };
    if (rec.fields.size() != header.fields.size()) {
      fail(absl::StrCat("has ", rec.fields.size(), " fields but the header has ",
                        header.fields.size(), " (a comma inside a value must be quoted)"));
      continue;
    }
    if (row.event_id.empty()) {
      fail("event_id is empty");
      continue;
    }
    if (row.person_id.empty()) {
      fail("person_id is empty");
      continue;
    }
    absl::StatusOr<iam::v1::HrEventType> type = ParseType(get("type"));
    if (!type.ok()) {
      fail(std::string(type.status().message()));
      continue;
    }
    row.type = *type;
    absl::StatusOr<absl::Time> effective =
        ParseEffectiveTime(get("effective_at"), now, "effective_at");
    if (!effective.ok()) {
      fail(std::string(effective.status().message()));
      continue;
    }
    row.effective = *effective;
    auto [seen, fresh] = event_lines.emplace(row.event_id, row.line);
    if (!fresh) {
      fail(absl::StrCat("event_id \"", row.event_id, "\" repeats line ", seen->second,
                        "; every event needs its own id"));
      continue;
    }
    std::string missing;
    if (row.type == iam::v1::HR_EVENT_TYPE_HIRE) {
      for (const char* f : {"display_name", "org_unit", "job_code", "site"}) {
        if (get(f).empty()) missing = f;
      }
      if (!missing.empty()) {
        fail(absl::StrCat("a hire needs ", missing));
        continue;
      }
      row.hire.set_display_name(get("display_name"));
      row.hire.set_org_unit(get("org_unit"));
      row.hire.set_job_code(get("job_code"));
      row.hire.set_site(get("site"));
      row.hire.set_manager_id(get("manager_id"));
    } else if (row.type == iam::v1::HR_EVENT_TYPE_MOVE) {
      if (get("org_unit").empty() && get("job_code").empty() && get("site").empty() &&
          get("manager_id").empty()) {
        fail("a move needs at least one of org_unit, job_code, site, manager_id");
        continue;
      }
      row.move.set_org_unit(get("org_unit"));
      row.move.set_job_code(get("job_code"));
      row.move.set_site(get("site"));
      row.move.set_manager_id(get("manager_id"));
    }
    iam::v1::HrEvent* event = row.mutable_event();
    event->set_event_id(row.event_id);
    event->set_person_id(row.person_id);
    event->set_effective_at(get("effective_at"));
    event->set_reason(get("reason"));
    // The same change under two ids is almost always a duplicated row.
    std::string change = absl::StrCat(
        HrEventTypeName(row.type), "|", row.person_id, "|",
        absl::ToUnixSeconds(row.effective), "|", get("display_name"), "|",
        get("org_unit"), "|", get("job_code"), "|", get("site"), "|",
        get("manager_id"));
    auto [same, first] = change_lines.emplace(change, std::make_pair(row.line, row.event_id));
    if (!first) {
      fail(absl::StrCat("the same ", HrEventTypeName(row.type), " of ", row.person_id,
                        " as line ", same->second.first, " (event ",
                        same->second.second, "): a duplicated row?"));
      continue;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace iam::lifecycle
