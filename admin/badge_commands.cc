// badge issue, lost, list; area who-can-enter, log. All talk to
// BadgeService.
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "admin/commands.h"
#include "admin/exit_codes.h"
#include "admin/values.h"
#include "proto/iam/v1/badge.grpc.pb.h"

namespace iam::admin {
namespace {

std::unique_ptr<iam::v1::BadgeService::Stub> Stub(CommandContext& ctx) {
  return iam::v1::BadgeService::NewStub(ctx.server().channel());
}

std::string Lower(const std::string& enum_name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::string_view(enum_name).substr(
      enum_name.size() > prefix.size() ? prefix.size() : 0));
}

std::string StateName(iam::v1::BadgeState s) {
  return Lower(iam::v1::BadgeState_Name(s), "BADGE_STATE_");
}

absl::StatusOr<iam::v1::BadgeState> ParseState(absl::string_view text) {
  std::string upper = absl::AsciiStrToUpper(text);
  iam::v1::BadgeState state;
  if (!iam::v1::BadgeState_Parse(absl::StrCat("BADGE_STATE_", upper), &state) ||
      state == iam::v1::BADGE_STATE_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--state '", text, "': expected active, suspended, lost or revoked"));
  }
  return state;
}

Table BadgeTable(const google::protobuf::RepeatedPtrField<iam::v1::Badge>& badges) {
  Table t({"BADGE", "CARD", "PERSON", "KIND", "STATE", "EXPIRES", "REASON"});
  for (const iam::v1::Badge& b : badges) {
    t.AddRow({b.id(), b.card_number(), b.person_id(),
              Lower(iam::v1::BadgeKind_Name(b.kind()), "BADGE_KIND_"),
              StateName(b.state()), FormatUnixSeconds(b.expires_at_unix()),
              b.state_reason()});
  }
  return t;
}

int PrintBadge(CommandContext& ctx, const iam::v1::BadgeResponse& response) {
  if (ctx.json()) {
    ctx.PrintJson(response);
    return kExitOk;
  }
  const iam::v1::Badge& b = response.badge();
  FieldList f;
  f.Add("badge", b.id());
  f.Add("card", b.card_number());
  f.Add("person", b.person_id());
  f.Add("kind", Lower(iam::v1::BadgeKind_Name(b.kind()), "BADGE_KIND_"));
  f.Add("state", StateName(b.state()));
  f.Add("issued", FormatUnixSeconds(b.issued_at_unix()));
  f.Add("expires", FormatUnixSeconds(b.expires_at_unix()));
  f.Add("issued by", b.issued_by());
  f.Add("reason", b.state_reason());
  f.Add("revision", absl::StrCat(response.revision()));
  f.Print(ctx.out());
  return kExitOk;
}

int RunBadgeIssue(CommandContext& ctx) {
  iam::v1::IssueBadgeRequest request;
  request.set_person_id(ctx.arg(0));
  request.set_card_number(ctx.arg(1));
  const auto expires = ctx.args().Value("expires");
  const auto valid_for = ctx.args().Value("valid-for");
  if (expires.has_value() == valid_for.has_value()) {
    return ctx.UsageError("give exactly one of --expires T or --valid-for D");
  }
  if (expires.has_value()) {
    absl::StatusOr<absl::Time> t = ParseRfc3339(*expires);
    if (!t.ok()) return ctx.UsageError(absl::StrCat("--expires: ", t.status().message()));
    request.set_expires_at_unix(absl::ToUnixSeconds(*t));
  } else {
    absl::StatusOr<absl::Duration> d = ParsePositiveDuration(*valid_for);
    if (!d.ok()) return ctx.UsageError(absl::StrCat("--valid-for: ", d.status().message()));
    request.set_expires_at_unix(absl::ToUnixSeconds(ctx.Now() + *d));
  }
  if (ctx.args().Has("visitor")) request.set_kind(iam::v1::BADGE_KIND_VISITOR);
  request.set_reason(ctx.args().Value("reason").value_or(""));
  if (request.reason().empty()) return ctx.UsageError("--reason is required");
  iam::v1::BadgeResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->IssueBadge(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintBadge(ctx, response);
}

int RunBadgeLost(CommandContext& ctx) {
  iam::v1::BadgeChangeRequest request;
  request.set_badge_id(ctx.arg(0));
  request.set_reason(ctx.args().Value("reason").value_or(""));
  if (request.reason().empty()) return ctx.UsageError("--reason is required");
  iam::v1::BadgeResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->ReportBadgeLost(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintBadge(ctx, response);
}

int RunBadgeList(CommandContext& ctx) {
  iam::v1::ListBadgesRequest request;
  request.set_person_id(ctx.args().Value("person").value_or(""));
  if (auto state = ctx.args().Value("state")) {
    absl::StatusOr<iam::v1::BadgeState> parsed = ParseState(*state);
    if (!parsed.ok()) return ctx.UsageError(parsed.status().message());
    request.set_state(*parsed);
  }
  const bool all_pages = ctx.args().Has("all");
  auto stub = Stub(ctx);
  iam::v1::ListBadgesResponse all;
  while (true) {
    iam::v1::ListBadgesResponse page;
    const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
      return stub->ListBadges(c, request, &page);
    });
    if (!status.ok()) return ctx.RpcError(status);
    for (auto& b : *page.mutable_badges()) *all.add_badges() = std::move(b);
    all.set_next_page_token(page.next_page_token());
    if (!all_pages || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
  } else {
    ctx.Print(BadgeTable(all.badges()));
    if (!all.next_page_token().empty()) {
      ctx.err() << "more badges: pass --all\n";
    }
  }
  return kExitOk;
}

int RunAreaWhoCanEnter(CommandContext& ctx) {
  iam::v1::WhoCanEnterRequest request;
  request.set_area_id(ctx.arg(0));
  iam::v1::WhoCanEnterResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->WhoCanEnter(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
    return kExitOk;
  }
  Table t({"PERSON", "BADGE", "CARD", "KIND", "ACCESS LEVELS", "UNTIL"});
  for (const iam::v1::DoorListEntry& e : response.entries()) {
    t.AddRow({e.person_id(), e.badge_id(), e.card_number(),
              Lower(iam::v1::BadgeKind_Name(e.kind()), "BADGE_KIND_"),
              absl::StrJoin(e.access_levels(), ","),
              FormatUnixSeconds(e.valid_until_unix())});
  }
  ctx.Print(t);
  return kExitOk;
}

int RunAreaLog(CommandContext& ctx) {
  iam::v1::AreaLogRequest request;
  request.set_area_id(ctx.arg(0));
  if (auto since = ctx.args().Value("since")) {
    absl::StatusOr<absl::Time> t = ParseRfc3339(*since);
    if (!t.ok()) return ctx.UsageError(absl::StrCat("--since: ", t.status().message()));
    request.set_since_unix_micros(absl::ToUnixMicros(*t));
  }
  if (auto limit = ctx.args().Value("limit")) {
    absl::StatusOr<int64_t> n = ParseInt(*limit, 1, 1000);
    if (!n.ok()) return ctx.UsageError(absl::StrCat("--limit: ", n.status().message()));
    request.set_limit(static_cast<int32_t>(*n));
  }
  iam::v1::AreaLogResponse response;
  auto stub = Stub(ctx);
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return stub->AreaLog(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
    return kExitOk;
  }
  Table t({"TIME", "OUTCOME", "PERSON", "CALLER", "DECISION"});
  for (const iam::v1::AuditRecord& r : response.records()) {
    t.AddRow({FormatUnixMicros(r.time_unix_micros()), AuditOutcomeName(r.outcome()),
              r.person_id(), r.caller(), r.reason()});
  }
  ctx.Print(t);
  return kExitOk;
}

}  // namespace

std::vector<Command> BadgeCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{"badge", "issue"},
       "PERSON CARD (--expires T | --valid-for D) --reason R [--visitor]",
       "issue a badge (card) to a person",
       "CARD is the card UID as the readers report it: 8-20 hex digits. A "
       "person holds at\nmost one active badge; card numbers are never "
       "reissued.",
       {{"expires", FlagKind::kValue, "T", "RFC3339 expiry, e.g. 2027-06-30T18:00:00Z"},
        {"valid-for", FlagKind::kValue, "D", "expiry from now, e.g. 365d"},
        {"visitor", FlagKind::kSwitch, "", "a visitor badge (admitted only when escorted)"},
        {"reason", FlagKind::kValue, "TEXT", "ticket or why; recorded in the audit log"}},
       2,
       2,
       true,
       RunBadgeIssue});
  commands.push_back(
      {{"badge", "lost"},
       "BADGE --reason R",
       "report a badge lost: it never admits again",
       "",
       {{"reason", FlagKind::kValue, "TEXT", "ticket or why; recorded in the audit log"}},
       1,
       1,
       true,
       RunBadgeLost});
  commands.push_back(
      {{"badge", "list"},
       "[--person P] [--state S] [--all]",
       "badges, ordered by id",
       "",
       {{"person", FlagKind::kValue, "ID", "only this person's badges"},
        {"state", FlagKind::kValue, "S", "active | suspended | lost | revoked"},
        {"all", FlagKind::kSwitch, "", "follow every page"}},
       0,
       0,
       true,
       RunBadgeList});
  commands.push_back(
      {{"area", "who-can-enter"},
       "AREA",
       "people whose active badge may pass the area's doors now",
       "Schedules aside: the access levels listed carry them.",
       {},
       1,
       1,
       true,
       RunAreaWhoCanEnter});
  commands.push_back(
      {{"area", "log"},
       "AREA [--since T] [--limit N]",
       "recent admissions and denials at the area's doors",
       "Default: the newest 100 decisions of the last 24 hours.",
       {{"since", FlagKind::kValue, "T", "RFC3339; only decisions since then"},
        {"limit", FlagKind::kValue, "N", "newest N decisions (1-1000)"}},
       1,
       1,
       true,
       RunAreaLog});
  return commands;
}

}  // namespace iam::admin
