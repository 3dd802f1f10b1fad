// hr hire, move, leave, suspend, reinstate, attest, event, history, import.
// All talk to LifecycleService.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "admin/commands.h"
#include "admin/exit_codes.h"
#include "admin/text.h"
#include "admin/values.h"
#include "google/protobuf/struct.pb.h"
#include "proto/iam/v1/lifecycle.grpc.pb.h"
#include "services/lifecycle/hr_csv.h"

namespace iam::admin {
namespace {

using iam::v1::HrEventResult;

std::unique_ptr<iam::v1::LifecycleService::Stub> Stub(CommandContext& ctx) {
  return iam::v1::LifecycleService::NewStub(ctx.server().channel());
}

std::vector<FlagSpec> EventFlags() {
  return {
      {"event", FlagKind::kValue, "ID", "HR's event id (required; a retry reuses it)"},
      {"effective-at", FlagKind::kValue, "TIME",
       "RFC 3339 with a zone, e.g. 2026-07-01T00:00:00+08:00 (default: now)"},
      {"reason", FlagKind::kValue, "TEXT", "why (HR ticket); recorded with every step"},
      {"dry-run", FlagKind::kSwitch, "", "show what would change; change nothing"},
  };
}

std::vector<FlagSpec> JobFlags() {
  return {
      {"org-unit", FlagKind::kValue, "OU", "org unit, e.g. ou/production/smt"},
      {"job", FlagKind::kValue, "CODE", "job code, e.g. LINE_LEAD"},
      {"site", FlagKind::kValue, "SITE", "site id, e.g. sz"},
      {"manager", FlagKind::kValue, "ID", "the manager's person id"},
  };
}

template <typename... Lists>
std::vector<FlagSpec> Concat(Lists... lists) {
  std::vector<FlagSpec> out;
  (out.insert(out.end(), lists.begin(), lists.end()), ...);
  return out;
}

absl::StatusOr<iam::v1::HrEvent> EventFrom(CommandContext& ctx) {
  iam::v1::HrEvent e;
  absl::optional<std::string> id = ctx.args().Value("event");
  if (!id.has_value() || id->empty()) {
    return absl::InvalidArgumentError("--event ID is required (HR's event id)");
  }
  e.set_event_id(*id);
  e.set_person_id(ctx.arg(0));
  e.set_effective_at(ctx.args().Value("effective-at").value_or(""));
  e.set_reason(ctx.args().Value("reason").value_or(""));
  e.set_dry_run(ctx.args().Has("dry-run"));
  return e;
}

std::string StateName(iam::v1::HrEventState s) {
  switch (s) {
    case iam::v1::HR_EVENT_STATE_SCHEDULED:
      return "scheduled";
    case iam::v1::HR_EVENT_STATE_APPLYING:
      return "applying (stopped part way; resumed automatically)";
    case iam::v1::HR_EVENT_STATE_APPLIED:
      return "applied";
    case iam::v1::HR_EVENT_STATE_FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

std::string OriginName(const iam::v1::Grant& g) {
  if (g.origin() == iam::v1::GRANT_ORIGIN_BIRTHRIGHT) {
    return absl::StrCat("birthright (", g.rule(), ")");
  }
  return g.origin() == iam::v1::GRANT_ORIGIN_MANUAL ? "manual" : "?";
}

std::string GrantStateName(const iam::v1::Grant& g) {
  switch (g.state()) {
    case iam::v1::GRANT_STATE_ACTIVE:
      return "active";
    case iam::v1::GRANT_STATE_PENDING_PREREQUISITE: {
      std::vector<std::string> missing;
      for (int m : g.missing()) {
        missing.push_back(m == iam::v1::PREREQUISITE_SECURITY_AGREEMENT_SIGNED
                              ? "security agreement"
                              : "background check");
      }
      return absl::StrCat("pending: needs ", absl::StrJoin(missing, ", "));
    }
    case iam::v1::GRANT_STATE_DORMANT:
      return "dormant (suspended)";
    default:
      return "?";
  }
}

void AddGrants(Table* table, const std::string& change,
               const google::protobuf::RepeatedPtrField<iam::v1::Grant>& grants) {
  for (const auto& g : grants) {
    table->AddRow({change, g.role(), g.scope(), OriginName(g), g.binding_id(),
                   GrantStateName(g)});
  }
}

void PrintResult(CommandContext& ctx, const HrEventResult& r) {
  if (ctx.json()) {
    ctx.PrintJson(r);
    return;
  }
  FieldList fields;
  fields.Add("event", r.event_id());
  fields.Add("type", lifecycle::HrEventTypeName(r.type()));
  fields.Add("person", r.person_id());
  fields.Add("state", absl::StrCat(r.dry_run() ? "dry run: would be " : "",
                                   StateName(r.state()), r.replayed() ? " (repeated id: first result)" : ""));
  fields.Add("effective", FormatUnixSeconds(r.effective_at_unix()));
  if (r.status_revision() != 0) fields.Add("status revision", absl::StrCat(r.status_revision()));
  if (r.revision() != 0) fields.Add("revision", absl::StrCat(r.revision()));
  if (!r.error().empty()) fields.Add("error", r.error());
  if (r.badges_size() > 0) {
    fields.AddList("badges", {r.badges().begin(), r.badges().end()});
  }
  if (!r.reviewer_id().empty()) fields.Add("reviewer", r.reviewer_id());
  fields.AddList("steps", {r.steps().begin(), r.steps().end()});
  fields.Print(ctx.out());
  Table table({"CHANGE", "ROLE", "SCOPE", "ORIGIN", "BINDING", "STATE"});
  AddGrants(&table, "granted", r.granted());
  AddGrants(&table, "pending", r.pending());
  AddGrants(&table, "removed", r.removed());
  AddGrants(&table, "kept", r.kept());
  AddGrants(&table, "review", r.to_review());
  if (table.num_rows() > 0) {
    ctx.out() << "\n";
    ctx.Print(table);
  }
}

template <typename Request, typename Rpc>
int RunEvent(CommandContext& ctx, Request& request, Rpc rpc) {
  absl::StatusOr<iam::v1::HrEvent> event = EventFrom(ctx);
  if (!event.ok()) return ctx.UsageError(event.status().message());
  *request.mutable_event() = *event;
  auto stub = Stub(ctx);
  HrEventResult result;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ((*stub).*rpc)(c, request, &result);
  });
  if (!status.ok()) return ctx.RpcError(status);
  PrintResult(ctx, result);
  return kExitOk;
}

int RunHire(CommandContext& ctx) {
  iam::v1::HireRequest r;
  r.set_display_name(ctx.args().Value("name").value_or(""));
  r.set_org_unit(ctx.args().Value("org-unit").value_or(""));
  r.set_job_code(ctx.args().Value("job").value_or(""));
  r.set_site(ctx.args().Value("site").value_or(""));
  r.set_manager_id(ctx.args().Value("manager").value_or(""));
  if (r.display_name().empty() || r.org_unit().empty() || r.job_code().empty() ||
      r.site().empty()) {
    return ctx.UsageError("hire needs --name, --org-unit, --job and --site");
  }
  return RunEvent(ctx, r, &iam::v1::LifecycleService::Stub::Hire);
}

int RunMove(CommandContext& ctx) {
  iam::v1::MoveRequest r;
  r.set_org_unit(ctx.args().Value("org-unit").value_or(""));
  r.set_job_code(ctx.args().Value("job").value_or(""));
  r.set_site(ctx.args().Value("site").value_or(""));
  r.set_manager_id(ctx.args().Value("manager").value_or(""));
  return RunEvent(ctx, r, &iam::v1::LifecycleService::Stub::Move);
}

int RunLeave(CommandContext& ctx) {
  iam::v1::LeaveRequest r;
  return RunEvent(ctx, r, &iam::v1::LifecycleService::Stub::Leave);
}

int RunSuspend(CommandContext& ctx) {
  iam::v1::SuspendRequest r;
  return RunEvent(ctx, r, &iam::v1::LifecycleService::Stub::Suspend);
}

int RunReinstate(CommandContext& ctx) {
  iam::v1::ReinstateRequest r;
  return RunEvent(ctx, r, &iam::v1::LifecycleService::Stub::Reinstate);
}

int RunAttest(CommandContext& ctx) {
  absl::StatusOr<iam::v1::AttestationType> type = ParseAttestationType(ctx.arg(1));
  if (!type.ok()) return ctx.UsageError(type.status().message());
  iam::v1::RecordAttestationRequest r;
  r.set_person_id(ctx.arg(0));
  r.set_type(*type);
  r.set_reason(ctx.args().Value("reason").value_or(""));
  auto stub = Stub(ctx);
  iam::v1::AttestationResult result;
  const grpc::Status status = ctx.Call(
      [&](grpc::ClientContext* c) { return stub->RecordAttestation(c, r, &result); });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(result);
    return kExitOk;
  }
  ctx.out() << "recorded " << AttestationTypeName(*type) << " for " << ctx.arg(0)
            << " at revision " << result.revision() << "\n";
  Table table({"CHANGE", "ROLE", "SCOPE", "ORIGIN", "BINDING", "STATE"});
  AddGrants(&table, "granted", result.granted());
  AddGrants(&table, "pending", result.pending());
  if (table.num_rows() > 0) ctx.Print(table);
  return kExitOk;
}

int RunEventShow(CommandContext& ctx) {
  iam::v1::GetEventRequest r;
  r.set_event_id(ctx.arg(0));
  auto stub = Stub(ctx);
  HrEventResult result;
  const grpc::Status status =
      ctx.Call([&](grpc::ClientContext* c) { return stub->GetEvent(c, r, &result); });
  if (!status.ok()) return ctx.RpcError(status);
  PrintResult(ctx, result);
  return kExitOk;
}

int RunHistory(CommandContext& ctx) {
  iam::v1::GetPersonHistoryRequest r;
  r.set_person_id(ctx.arg(0));
  auto stub = Stub(ctx);
  iam::v1::GetPersonHistoryResponse h;
  const grpc::Status status = ctx.Call(
      [&](grpc::ClientContext* c) { return stub->GetPersonHistory(c, r, &h); });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(h);
    return kExitOk;
  }
  const iam::v1::Person& p = h.person();
  FieldList fields;
  fields.Add("person", p.id());
  fields.Add("name", p.display_name());
  fields.Add("status", PersonStatusName(p.status()));
  fields.Add("job", absl::StrCat(p.org_unit(), " ", p.job_code(), " site ", p.site()));
  if (!p.manager_id().empty()) fields.Add("manager", p.manager_id());
  std::vector<std::string> attested;
  for (const auto& a : p.attestations()) attested.push_back(AttestationTypeName(a.type()));
  fields.AddList("attestations", attested);
  fields.Print(ctx.out());

  ctx.out() << "\njob history:\n";
  Table history({"EFFECTIVE", "EVENT", "TYPE", "ORG UNIT", "JOB", "SITE", "STATUS"});
  for (const auto& e : h.lifecycle().history()) {
    history.AddRow({FormatUnixSeconds(e.effective_at_unix()), e.event_id(),
                    lifecycle::HrEventTypeName(e.type()), e.org_unit(), e.job_code(),
                    e.site(), PersonStatusName(e.status())});
  }
  ctx.Print(history);

  ctx.out() << "\ngrants:\n";
  Table grants({"ROLE", "SCOPE", "ORIGIN", "STATE", "BINDING", "EVENT", "EXPIRES"});
  for (const auto& g : h.grants()) {
    grants.AddRow({g.role(), g.scope(), OriginName(g), GrantStateName(g), g.binding_id(),
                   g.event_id(), FormatUnixSeconds(g.expires_at_unix())});
  }
  ctx.Print(grants);
  if (h.lifecycle().to_review_size() > 0) {
    ctx.out() << "\nmanual grants to review after the last move:\n";
    Table review({"ROLE", "SCOPE", "BINDING", "REASON"});
    for (const auto& g : h.lifecycle().to_review()) {
      review.AddRow({g.role(), g.scope(), g.binding_id(), g.reason()});
    }
    ctx.Print(review);
  }
  if (h.scheduled_size() > 0) {
    ctx.out() << "\nscheduled:\n";
    Table scheduled({"EFFECTIVE", "EVENT", "TYPE", "STATE"});
    for (const auto& e : h.scheduled()) {
      scheduled.AddRow({FormatUnixSeconds(e.effective_at_unix()), e.event_id(),
                        lifecycle::HrEventTypeName(e.type()), StateName(e.state())});
    }
    ctx.Print(scheduled);
  }
  return kExitOk;
}

// --- hr import ---

struct RowOutcome {
  std::string result;  // applied, scheduled, repeated, ok, failed, invalid, skipped
  std::string detail;
  grpc::StatusCode code = grpc::StatusCode::OK;
};

bool RowFailed(const RowOutcome& o) {
  return o.result == "failed" || o.result == "invalid" || o.result == "skipped";
}

grpc::Status SendRow(CommandContext& ctx, iam::v1::LifecycleService::Stub& stub,
                     lifecycle::HrRow& row, bool dry_run, HrEventResult* result) {
  row.mutable_event()->set_dry_run(dry_run);
  return ctx.Call([&](grpc::ClientContext* c) {
    switch (row.type) {
      case iam::v1::HR_EVENT_TYPE_HIRE:
        return stub.Hire(c, row.hire, result);
      case iam::v1::HR_EVENT_TYPE_MOVE:
        return stub.Move(c, row.move, result);
      case iam::v1::HR_EVENT_TYPE_LEAVE:
        return stub.Leave(c, row.leave, result);
      case iam::v1::HR_EVENT_TYPE_SUSPEND:
        return stub.Suspend(c, row.suspend, result);
      default:
        return stub.Reinstate(c, row.reinstate, result);
    }
  });
}

std::string Summary(const HrEventResult& r) {
  std::vector<std::string> parts;
  if (r.granted_size()) parts.push_back(absl::StrCat(r.granted_size(), " granted"));
  if (r.pending_size()) parts.push_back(absl::StrCat(r.pending_size(), " pending"));
  if (r.removed_size()) parts.push_back(absl::StrCat(r.removed_size(), " removed"));
  if (r.to_review_size()) parts.push_back(absl::StrCat(r.to_review_size(), " to review"));
  if (r.badges_size()) parts.push_back(absl::StrCat(r.badges_size(), " badge(s)"));
  if (r.state() == iam::v1::HR_EVENT_STATE_SCHEDULED) {
    parts.push_back(absl::StrCat("at ", FormatUnixSeconds(r.effective_at_unix())));
  }
  return absl::StrJoin(parts, ", ");
}

int RunImport(CommandContext& ctx) {
  const std::string path = ctx.arg(0);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return ctx.LocalError(absl::NotFoundError(absl::StrCat("cannot read ", path)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<std::vector<lifecycle::HrRow>> parsed =
      lifecycle::ParseHrCsv(buffer.str(), ctx.Now());
  if (!parsed.ok()) {
    return ctx.LocalError(absl::InvalidArgumentError(
        absl::StrCat(path, ": ", parsed.status().message())));
  }
  std::vector<lifecycle::HrRow>& rows = *parsed;
  const bool dry_run = ctx.args().Has("dry-run");
  int parallel = 16;
  if (auto p = ctx.args().Value("parallel")) {
    absl::StatusOr<int64_t> n = ParseInt(*p, 1, 64);
    if (!n.ok()) return ctx.UsageError(absl::StrCat("--parallel: ", n.status().message()));
    parallel = static_cast<int>(*n);
  }
  const bool progress = !ctx.args().Has("no-progress") && isatty(STDERR_FILENO) && !ctx.json();

  // Rows of one person go in order of effective time (then file order), one
  // at a time; different people in parallel.
  std::vector<RowOutcome> outcomes(rows.size());
  std::map<std::string, std::vector<size_t>> by_person;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].error.empty()) {
      outcomes[i] = {"invalid", rows[i].error, grpc::StatusCode::INVALID_ARGUMENT};
      continue;
    }
    by_person[rows[i].person_id].push_back(i);
  }
  for (auto& [person, indexes] : by_person) {
    std::stable_sort(indexes.begin(), indexes.end(), [&](size_t a, size_t b) {
      return rows[a].effective < rows[b].effective;
    });
  }
  // A row naming a manager hired by this file waits for that hire: people go
  // in waves, each after the people whose hires it depends on.
  std::map<std::string, size_t> hired_at;  // person -> row of their hire
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].error.empty() && rows[i].type == iam::v1::HR_EVENT_TYPE_HIRE) {
      hired_at.emplace(rows[i].person_id, i);
    }
  }
  auto manager_of = [&](size_t i) -> const std::string& {
    return rows[i].type == iam::v1::HR_EVENT_TYPE_HIRE ? rows[i].hire.manager_id()
                                                       : rows[i].move.manager_id();
  };
  std::map<std::string, int> wave;
  for (int round = 0; round < 64 && wave.size() < by_person.size(); ++round) {
    for (const auto& [person, indexes] : by_person) {
      if (wave.count(person)) continue;
      int level = 0;
      bool ready = true;
      for (size_t i : indexes) {
        const std::string& m = manager_of(i);
        if (m.empty() || m == person || !hired_at.count(m) || !by_person.count(m)) continue;
        auto w = wave.find(m);
        if (w == wave.end()) {
          ready = false;
          break;
        }
        level = std::max(level, w->second + 1);
      }
      if (ready) wave[person] = level;
    }
  }
  std::vector<std::vector<std::vector<size_t>>> waves(1);
  for (auto& [person, indexes] : by_person) {
    auto w = wave.find(person);
    const size_t level = w == wave.end() ? 64 : static_cast<size_t>(w->second);
    if (waves.size() <= level) waves.resize(level + 1);
    waves[level].push_back(indexes);
  }

  auto stub = Stub(ctx);
  std::atomic<size_t> next{0};
  const std::vector<std::vector<size_t>>* current = nullptr;
  absl::Mutex mu;
  size_t done = rows.size();
  for (const auto& [person, indexes] : by_person) done -= indexes.size();
  size_t failed = done;
  absl::Time last_draw = absl::InfinitePast();
  auto draw = [&](bool final) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!progress) return;
    const absl::Time now = absl::Now();
    if (!final && now - last_draw < absl::Milliseconds(100)) return;
    last_draw = now;
    const int width = 30;
    const int filled = rows.empty() ? width : static_cast<int>(width * done / rows.size());
    ctx.err() << "\r[" << std::string(filled, '#') << std::string(width - filled, '.')
              << "] " << done << "/" << rows.size() << " rows, " << failed << " failed"
              << (final ? "\n" : "") << std::flush;
  };
  auto work = [&] {
    const std::vector<std::vector<size_t>>& groups = *current;
    for (size_t g = next++; g < groups.size(); g = next++) {
      const std::vector<size_t>& group = groups[g];
      int failed_line = 0;
      for (size_t k = 0; k < group.size(); ++k) {
        const size_t i = group[k];
        RowOutcome o;
        if (failed_line != 0) {
          o = {"skipped",
               absl::StrCat("line ", failed_line,
                            " for this person failed and events apply in order"),
               grpc::StatusCode::FAILED_PRECONDITION};
        } else if (dry_run && k > 0) {
          o = {"ok", absl::StrCat("checked in this file only: depends on line ",
                                  rows[group[0]].line)};
        } else if (dry_run && hired_at.count(manager_of(i)) &&
                   manager_of(i) != rows[i].person_id) {
          o = {"ok", absl::StrCat("checked in this file only: its manager is hired on line ",
                                  rows[hired_at[manager_of(i)]].line)};
        } else {
          HrEventResult result;
          grpc::Status s = SendRow(ctx, *stub, rows[i], dry_run, &result);
          if (!s.ok()) {
            o = {"failed",
                 absl::StrCat(StatusCodeName(s.error_code()), ": ", s.error_message()),
                 s.error_code()};
            failed_line = rows[i].line;
          } else if (result.replayed()) {
            o = {"repeated", absl::StrCat("event already ", StateName(result.state()))};
          } else if (dry_run) {
            o = {"ok", absl::StrCat("would be ", StateName(result.state()), ": ",
                                    Summary(result))};
          } else {
            o = {StateName(result.state()), Summary(result)};
          }
        }
        absl::MutexLock lock(&mu);
        outcomes[i] = std::move(o);
        ++done;
        if (RowFailed(outcomes[i])) ++failed;
        draw(false);
      }
    }
  };
  for (const auto& groups : waves) {
    current = &groups;
    next = 0;
    std::vector<std::thread> threads;
    for (size_t t = 1; t < std::min<size_t>(parallel, groups.size()); ++t) {
      threads.emplace_back(work);
    }
    work();
    for (auto& t : threads) t.join();
  }
  {
    absl::MutexLock lock(&mu);
    draw(true);
  }

  std::map<std::string, int> counts;
  grpc::StatusCode first_failure = grpc::StatusCode::OK;
  for (const RowOutcome& o : outcomes) {
    ++counts[o.result];
    if (RowFailed(o) && first_failure == grpc::StatusCode::OK) first_failure = o.code;
  }
  const bool verbose = ctx.args().Has("verbose") || dry_run;
  if (ctx.json()) {
    google::protobuf::Struct report;
    auto& fields = *report.mutable_fields();
    fields["dry_run"].set_bool_value(dry_run);
    auto* list = fields["rows"].mutable_list_value();
    for (size_t i = 0; i < rows.size(); ++i) {
      google::protobuf::Struct row;
      auto& f = *row.mutable_fields();
      f["line"].set_number_value(rows[i].line);
      f["event_id"].set_string_value(rows[i].event_id);
      f["person_id"].set_string_value(rows[i].person_id);
      f["type"].set_string_value(lifecycle::HrEventTypeName(rows[i].type));
      f["result"].set_string_value(outcomes[i].result);
      f["detail"].set_string_value(outcomes[i].detail);
      *list->add_values()->mutable_struct_value() = std::move(row);
    }
    ctx.PrintJson(report);
  } else {
    Table table({"LINE", "EVENT", "PERSON", "TYPE", "RESULT", "DETAIL"});
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!verbose && !RowFailed(outcomes[i])) continue;
      table.AddRow({absl::StrCat(rows[i].line), rows[i].event_id, rows[i].person_id,
                    lifecycle::HrEventTypeName(rows[i].type), outcomes[i].result,
                    outcomes[i].detail});
    }
    if (table.num_rows() > 0) ctx.Print(table);
    std::vector<std::string> parts;
    for (const auto& [result, n] : counts) parts.push_back(absl::StrCat(n, " ", result));
    ctx.out() << path << ": " << rows.size() << " rows"
              << (dry_run ? " (dry run: nothing changed)" : "") << ": "
              << absl::StrJoin(parts, ", ") << "\n";
  }
  return first_failure == grpc::StatusCode::OK ? kExitOk : ExitCodeFor(first_failure);
}

}  // namespace

std::vector<Command> HrCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{"hr", "hire"},
       "ID --event E --name N --org-unit OU --job CODE --site S [--manager M] "
       "[--effective-at T]",
       "hire a person: birthright access, then active",
       "A future --effective-at creates the person as pending now and activates\n"
       "them at that second. Grants whose prerequisites are missing are pending.",
       Concat(EventFlags(), JobFlags(),
              std::vector<FlagSpec>{{"name", FlagKind::kValue, "NAME", "display name"}}),
       1, 1, true, RunHire});
  commands.push_back({{"hr", "move"},
                      "ID --event E [--org-unit] [--job] [--site] [--manager]",
                      "change a person's job: birthright follows",
                      "Removes what the old job granted and the new one does not; lists "
                      "manual grants\nthat are not portable for the manager to review.",
                      Concat(EventFlags(), JobFlags()), 1, 1, true, RunMove});
  commands.push_back({{"hr", "leave"},
                      "ID --event E [--effective-at T]",
                      "a leaver: status, every binding, password and badges at once",
                      "",
                      EventFlags(), 1, 1, true, RunLeave});
  commands.push_back({{"hr", "suspend"},
                      "ID --event E [--effective-at T]",
                      "suspend: deny everything, keep bindings dormant, suspend badges",
                      "",
                      EventFlags(), 1, 1, true, RunSuspend});
  commands.push_back({{"hr", "reinstate"},
                      "ID --event E [--effective-at T]",
                      "restore a suspended person's dormant bindings and badges",
                      "",
                      EventFlags(), 1, 1, true, RunReinstate});
  commands.push_back({{"hr", "attest"},
                      "ID security-agreement|background-check",
                      "record an attestation and grant what was waiting for it",
                      "",
                      {{"reason", FlagKind::kValue, "TEXT", "why; recorded in the audit log"}},
                      2, 2, true, RunAttest});
  commands.push_back({{"hr", "event"}, "EVENT_ID", "the stored result of an HR event", "",
                      {}, 1, 1, true, RunEventShow});
  commands.push_back({{"hr", "history"},
                      "ID",
                      "status, job history, grants and where each came from",
                      "Origins: birthright (rule), manual, pending prerequisite, dormant.",
                      {}, 1, 1, true, RunHistory});
  commands.push_back(
      {{"hr", "import"},
       "FILE.csv [--dry-run] [--parallel N] [--verbose]",
       "apply an HR export: one event per row",
       "Columns (header row, any order): event_id,type,person_id,effective_at,\n"
       "display_name,org_unit,job_code,site,manager_id,reason. Rows of one person\n"
       "apply in effective-time order; a bad row changes nothing and later rows of\n"
       "that person are skipped. Prints every failed row (every row with\n"
       "--verbose or --dry-run) and a summary; a progress bar on a terminal.",
       {{"dry-run", FlagKind::kSwitch, "", "check every row; change nothing"},
        {"parallel", FlagKind::kValue, "N", "people applied at once (1-64, default 16)"},
        {"verbose", FlagKind::kSwitch, "", "report every row, not only failures"},
        {"no-progress", FlagKind::kSwitch, "", "no progress bar"}},
       1, 1, true, RunImport});
  return commands;
}

}  // namespace iam::admin
