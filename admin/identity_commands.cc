// person create, show, list, update, attest. All talk to IdentityService.
#include <string>

#include "admin/commands.h"
#include "admin/exit_codes.h"
#include "admin/render.h"
#include "admin/requests.h"
#include "admin/values.h"
#include "proto/iam/v1/identity.grpc.pb.h"

namespace iam::admin {
namespace {

// Prints a person and the revision the write committed at.
int PrintPersonWrite(CommandContext& ctx,
                     const google::protobuf::Message& response,
                     const iam::v1::Person& person) {
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << RenderPerson(person);
  }
  return kExitOk;
}

int RunPersonCreate(CommandContext& ctx) {
  absl::StatusOr<iam::v1::CreatePersonRequest> request =
      BuildCreatePersonRequest(ctx.args());
  if (!request.ok()) return ctx.UsageError(request.status().message());
  iam::v1::CreatePersonResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().identity().CreatePerson(c, *request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintPersonWrite(ctx, response, response.person());
}

int RunPersonShow(CommandContext& ctx) {
  iam::v1::GetPersonRequest request;
  request.set_id(ctx.arg(0));
  iam::v1::GetPersonResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().identity().GetPerson(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response.person());
  } else {
    ctx.out() << RenderPerson(response.person());
  }
  return kExitOk;
}

int RunPersonList(CommandContext& ctx) {
  absl::StatusOr<iam::v1::ListPeopleRequest> request =
      BuildListPeopleRequest(ctx.args());
  if (!request.ok()) return ctx.UsageError(request.status().message());
  const bool all_pages = ctx.args().Has("all");
  iam::v1::ListPeopleResponse all;
  while (true) {
    iam::v1::ListPeopleResponse page;
    const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
      return ctx.server().identity().ListPeople(c, *request, &page);
    });
    if (!status.ok()) return ctx.RpcError(status);
    for (iam::v1::Person& person : *page.mutable_people()) {
      *all.add_people() = std::move(person);
    }
    all.set_next_page_token(page.next_page_token());
    if (!all_pages || page.next_page_token().empty()) break;
    if (page.next_page_token() == request->page_token()) {
      return ctx.RpcError(grpc::Status(grpc::StatusCode::INTERNAL,
                                       "server repeated a page token"));
    }
    request->set_page_token(page.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
  } else {
    ctx.Print(PeopleTable(all.people()));
    if (!all.next_page_token().empty()) {
      ctx.err() << "more people: pass --all, or --page-token "
                << all.next_page_token() << "\n";
    }
  }
  return kExitOk;
}

int RunPersonUpdate(CommandContext& ctx) {
  absl::StatusOr<iam::v1::UpdatePersonRequest> request =
      BuildUpdatePersonRequest(ctx.args());
  if (!request.ok()) return ctx.UsageError(request.status().message());
  iam::v1::UpdatePersonResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().identity().UpdatePerson(c, *request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintPersonWrite(ctx, response, response.person());
}

int RunPersonAttest(CommandContext& ctx) {
  absl::StatusOr<iam::v1::AttestationType> type =
      ParseAttestationType(ctx.arg(1));
  if (!type.ok()) return ctx.UsageError(type.status().message());
  iam::v1::RecordAttestationRequest request;
  request.set_person_id(ctx.arg(0));
  request.set_type(*type);
  request.set_reason(ctx.args().Value("reason").value_or(""));
  iam::v1::RecordAttestationResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().identity().RecordAttestation(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintPersonWrite(ctx, response, response.person());
}

}  // namespace

std::vector<Command> IdentityCommands() {
  std::vector<Command> commands;
  commands.push_back({{"person", "create"},
                      "ID --name N --org-unit OU --job CODE --site S [flags]",
                      "register a person",
                      "Prints the person as stored.",
                      PersonCreateFlags(),
                      1,
                      1,
                      true,
                      RunPersonCreate});
  commands.push_back({{"person", "show"},
                      "ID",
                      "one person",
                      "",
                      {},
                      1,
                      1,
                      true,
                      RunPersonShow});
  commands.push_back({{"person", "list"},
                      "[filters] [--page-size N] [--all]",
                      "people, ordered by id",
                      "Prints one page unless --all is given; says on stderr "
                      "when there are more.",
                      PersonListFlags(),
                      0,
                      0,
                      true,
                      RunPersonList});
  commands.push_back({{"person", "update"},
                      "ID [--name] [--org-unit] [--job] [--site] [--manager] "
                      "[--status] [--group G]...",
                      "change some of a person's fields",
                      "Changes exactly the fields given (update_mask); --group "
                      "replaces the whole\n"
                      "group list. Use `person attest` for attestations.",
                      PersonUpdateFlags(),
                      1,
                      1,
                      true,
                      RunPersonUpdate});
  commands.push_back(
      {{"person", "attest"},
       "ID security-agreement|background-check",
       "record a signed security agreement or a passed background check",
       "",
       {{"reason", FlagKind::kValue, "TEXT",
         "why (ticket or free text); recorded in the audit log"}},
       2,
       2,
       true,
       RunPersonAttest});
  return commands;
}

}  // namespace iam::admin
