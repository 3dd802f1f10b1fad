#include "admin/table.h"

#include "gtest/gtest.h"

namespace iam::admin {
namespace {

TEST(TableTest, AlignsColumnsWithoutTrailingSpaces) {
  Table table({"ID", "NAME", "STATUS"});
  table.AddRow({"p-1", "Ann", "active"});
  table.AddRow({"p-00042", "Bartholomew", "left"});
  EXPECT_EQ(table.ToString(),
            "ID       NAME         STATUS\n"
            "p-1      Ann          active\n"
            "p-00042  Bartholomew  left\n");
}

TEST(TableTest, PrintsHeaderAloneWhenEmpty) {
  Table table({"PERSON"});
  EXPECT_EQ(table.num_rows(), 0u);
  EXPECT_EQ(table.ToString(), "PERSON\n");
}

TEST(TableTest, ShowsEmptyCellsAsDash) {
  Table table({"ID", "MANAGER", "SITE"});
  table.AddRow({"p-1", "", ""});
  EXPECT_EQ(table.ToString(),
            "ID   MANAGER  SITE\n"
            "p-1  -        -\n");
}

TEST(TableTest, AlignsWideCharactersByDisplayWidth) {
  Table table({"NAME", "SITE"});
  table.AddRow({"张伟", "sz"});
  table.AddRow({"Ann", "sz"});
  EXPECT_EQ(table.ToString(),
            "NAME  SITE\n"
            "张伟  sz\n"
            "Ann   sz\n");
}

TEST(TableTest, SanitizesCellsSoRowsStayOnOneLine) {
  Table table({"REASON"});
  table.AddRow({"line one\nline two\x1b[2J"});
  EXPECT_EQ(table.ToString(), "REASON\nline one\\nline two\\x1b[2J\n");
}

TEST(FieldListTest, AlignsValuesAndListsItemsUnderEachOther) {
  FieldList fields;
  fields.Add("id", "p-1");
  fields.Add("manager", "");
  fields.AddList("groups", {"smt", "burning"});
  fields.AddList("attestations", {});
  EXPECT_EQ(fields.ToString(),
            "id:            p-1\n"
            "manager:       -\n"
            "groups:        smt\n"
            "               burning\n"
            "attestations:  -\n");
}

}  // namespace
}  // namespace iam::admin
