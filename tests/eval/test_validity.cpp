// AUC helper and separation labels; the validity table on the prepared data when present.
#include <torch/torch.h>

#include <cstdlib>

#include "eval/report/validity.h"
#include "test_util.h"

using namespace momu;

TEST(Validity, AucOnKnownInputs) {
  EXPECT_DOUBLE_EQ(auc({3, 4}, {1, 2}), 1.0);
  EXPECT_DOUBLE_EQ(auc({1, 2}, {3, 4}), 0.0);
  EXPECT_DOUBLE_EQ(auc({1}, {1}), 0.5);  // ties count half
  EXPECT_DOUBLE_EQ(auc({1, 3}, {2}), 0.5);
  EXPECT_DOUBLE_EQ(auc({2, 3}, {1, 2, 4}), (1 + 0.5 + 0 + 1 + 1 + 0) / 6.0);
  EXPECT_DOUBLE_EQ(auc({}, {1}), 0.5);
}

TEST(Validity, SeparationLabel) {
  EXPECT_EQ(separation_label(0.55), "does not separate");
  EXPECT_EQ(separation_label(0.45), "does not separate");
  EXPECT_EQ(separation_label(0.77), "separates");
  EXPECT_EQ(separation_label(0.2), "separates");  // inverted, but it separates
  EXPECT_FALSE(separates(0.6, 0.1));
}

// Runs on a prepared Dance with Melody folder given by $MOMU_PREPARED_DWM (slow-ish: ~1 min).
TEST(Validity, PreparedDanceWithMelodyWhenAvailable) {
  const char* dir = std::getenv("MOMU_PREPARED_DWM");
  if (dir == nullptr)
    GTEST_SKIP() << "set MOMU_PREPARED_DWM to a `momu prepare --dataset dwm` folder";
  const auto r = metric_validity(PreparedDataset::open(dir));
  ASSERT_GE(r.clips.size(), 2u);
  EXPECT_EQ(r.pairs.size(), r.clips.size() * r.clips.size());
  ASSERT_EQ(r.metrics.size(), 6u);
  EXPECT_DOUBLE_EQ(r.music_self_loris.f1, 1.0);
}
