// Folders replaced in one step and file sets (core/atomic_folder.h).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/atomic_file.h"
#include "core/atomic_folder.h"
#include "momu/core/error.h"
#include "test_util.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {


const std::vector<std::string> kSet = {"a.txt", "b.txt", "c.txt"};

// Writes a.txt and b.txt (not c.txt) holding `text`.
auto write_ab(const std::string& text) {
  return [text](const fs::path& tmp) {
    test::write_text(tmp / "a.txt", text);
    test::write_text(tmp / "b.txt", text);
  };
}

}  // namespace

TEST(AtomicFolder, ReplaceFolderSwapsInOneStep) {
  test::TempDir tmp;
  fs::create_directories(tmp.path() / "new");
  fs::create_directories(tmp.path() / "dir");
  test::write_text(tmp.path() / "new" / "x", "new");
  test::write_text(tmp.path() / "dir" / "y", "old");
  replace_folder(tmp.path() / "new", tmp.path() / "dir");
  EXPECT_EQ(test::names_in(tmp.path()), (std::set<std::string>{"dir"}));
  EXPECT_EQ(test::names_in(tmp.path() / "dir"), (std::set<std::string>{"x"}));
  fs::create_directories(tmp.path() / "other");
  replace_folder(tmp.path() / "other", tmp.path() / "fresh");  // no folder there yet
  EXPECT_TRUE(fs::is_directory(tmp.path() / "fresh"));
}

TEST(AtomicFolder, FileSetReplacesAnEarlierSetWhole) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "out";
  write_file_set(dir, kSet, write_ab("1"));  // a missing folder is made
  EXPECT_EQ(test::names_in(dir), (std::set<std::string>{"a.txt", "b.txt"}));
  // An earlier set with c.txt: replaced whole, c.txt goes with it.
  test::write_text(dir / "c.txt", "1");
  write_file_set(dir / "", kSet, write_ab("2"));  // "out/" names the same folder
  EXPECT_EQ(test::names_in(dir), (std::set<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(test::read_text(dir / "a.txt"), "2");
  EXPECT_EQ(test::names_in(tmp.path()), (std::set<std::string>{"out"}));
}

TEST(AtomicFolder, FileSetKeepsOtherFilesAndNeverMixesSets) {
  test::TempDir tmp;
  const fs::path dir = tmp.path() / "out";
  fs::create_directories(dir);
  test::write_text(dir / "notes", "mine");
  test::write_text(dir / "c.txt", "1");
  write_file_set(dir, kSet, write_ab("2"));
  EXPECT_EQ(test::names_in(dir), (std::set<std::string>{"notes", "a.txt", "b.txt"}));
  EXPECT_EQ(test::read_text(dir / "notes"), "mine");
  EXPECT_EQ(test::read_text(dir / "b.txt"), "2");
  // A set that fails part way leaves the earlier one as it was, and no temporary.
  EXPECT_THROW(write_file_set(dir, kSet,
                              [](const fs::path& tmp_dir) {
                                test::write_text(tmp_dir / "a.txt", "3");
                                throw IoError("disk full");
                              }),
               IoError);
  EXPECT_EQ(test::names_in(dir), (std::set<std::string>{"notes", "a.txt", "b.txt"}));
  EXPECT_EQ(test::read_text(dir / "a.txt"), "2");
  EXPECT_EQ(test::names_in(tmp.path()), (std::set<std::string>{"out"}));
  // A file where the folder should be.
  test::write_text(tmp.path() / "file", "x");
  EXPECT_THROW(write_file_set(tmp.path() / "file", kSet, write_ab("4")), IoError);
  EXPECT_EQ(test::read_text(tmp.path() / "file"), "x");
}

TEST(AtomicFolder, TemporariesAreKnownByTheirProcess) {
  EXPECT_TRUE(is_temporary_of(".o.bvh.tmp-123-abc", 123));
  EXPECT_FALSE(is_temporary_of(".o.bvh.tmp-1234-abc", 123));
  EXPECT_FALSE(is_temporary_of("o.bvh.tmp-123-abc", 123));
  EXPECT_TRUE(is_temporary_of(".last.writing-123", 123));
  EXPECT_FALSE(is_temporary_of(".last.writing-1234", 123));
  EXPECT_FALSE(is_temporary_of(".last.writing-123.old", 123)) << "maybe the only copy left";
  test::TempDir tmp;
  const std::string me = std::to_string(::getpid());
  test::write_text(tmp.path() / (".a.tmp-" + me + "-1"), "");
  fs::create_directories(tmp.path() / (".last.writing-" + me) / "trainer");
  test::write_text(tmp.path() / ".a.tmp-1-1", "");
  test::write_text(tmp.path() / "a", "");
  EXPECT_EQ(remove_temporaries_of(tmp.path(), ::getpid()), 2);
  EXPECT_EQ(test::names_in(tmp.path()), (std::set<std::string>{".a.tmp-1-1", "a"}));
}

namespace momu {
namespace {

// A process id that has just ended (its temporaries are stale).
pid_t ended_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

TEST(AtomicFolder, TheNextWriteRemovesTemporariesOfWritersThatAreGone) {
  test::TempDir tmp;
  const std::string gone = std::to_string(ended_pid());
  const std::string live = "1";  // init: runs as long as the machine does
  test::write_text(tmp.path() / (".m.wav.tmp-" + gone + "-7f"), "half");
  test::write_text(tmp.path() / (".m.wav.tmp-" + live + "-7f"), "being written");
  test::write_text(tmp.path() / (".other.wav.tmp-" + gone + "-7f"), "another file's");
  write_bytes_atomically(tmp.path() / "m.wav", "whole");
  EXPECT_EQ(test::names_in(tmp.path()),
            (std::set<std::string>{"m.wav", ".m.wav.tmp-" + live + "-7f", ".other.wav.tmp-" + gone + "-7f"}));
  // A file set (joint generation's --out-dir) likewise.
  fs::create_directories(tmp.path() / (".set.tmp-" + gone + "-9") / "x");
  write_file_set(tmp.path() / "set", kSet, write_ab("new"));
  EXPECT_FALSE(fs::exists(tmp.path() / (".set.tmp-" + gone + "-9")));
  EXPECT_TRUE(fs::exists(tmp.path() / "set" / "a.txt"));
}

}  // namespace
}  // namespace momu
