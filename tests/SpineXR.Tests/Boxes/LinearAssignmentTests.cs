using SpineXR.Boxes;

namespace SpineXR.Tests.Boxes;

public class LinearAssignmentTests
{
    [Fact]
    public void EqualsBruteForceOnEveryShapeUpTo7x7()
    {
        var rng = new Random(20210927);
        for (int rows = 1; rows <= 7; rows++)
        for (int cols = 1; cols <= 7; cols++)
        for (int trial = 0; trial < 12; trial++)
        {
            // Half the trials draw small integers, so many assignments tie for the optimum.
            bool ties = trial % 2 == 0;
            var cost = new double[rows * cols];
            for (int k = 0; k < cost.Length; k++)
                cost[k] = ties ? rng.Next(0, 4) : rng.NextDouble() * 10 - 5;

            int[] got = LinearAssignment.Solve(cost, rows, cols);

            AssertValid(got, rows, cols);
            double best = BruteForce(cost, rows, cols);
            Assert.Equal(best, LinearAssignment.TotalCost(cost, cols, got), 9);
        }
    }

    [Fact]
    public void PicksTheAntiDiagonalWhenItIsCheaper()
    {
        double[] cost = { 4, 1, 3, 2, 0, 5, 3, 2, 2 };
        var (rows, cols) = LinearAssignment.SolvePairs(cost, 3, 3);
        Assert.Equal(new[] { 0, 1, 2 }, rows);
        Assert.Equal(new[] { 1, 0, 2 }, cols); // scipy's answer for this matrix: total 5
    }

    [Fact]
    public void TallMatrixLeavesTheMostExpensiveRowsOut()
    {
        // 4 predictions, 2 targets: rows 1 and 3 are the cheap ones.
        double[] cost = { 9, 9, 1, 5, 9, 9, 5, 1 };
        int[] got = LinearAssignment.Solve(cost, 4, 2);
        Assert.Equal(new[] { -1, 0, -1, 1 }, got);
        var (r, c) = LinearAssignment.SolvePairs(cost, 4, 2);
        Assert.Equal(new[] { 1, 3 }, r);
        Assert.Equal(new[] { 0, 1 }, c);
    }

    [Fact]
    public void EmptyAndBadInput()
    {
        Assert.Empty(LinearAssignment.Solve(ReadOnlySpan<double>.Empty, 0, 5));
        Assert.Equal(new[] { -1, -1 }, LinearAssignment.Solve(ReadOnlySpan<double>.Empty, 2, 0));
        Assert.Throws<ArgumentException>(() => LinearAssignment.Solve(new double[5], 2, 3));
        Assert.Throws<ArgumentException>(() => LinearAssignment.Solve(new[] { 1.0, double.NaN }, 1, 2));
    }

    private static void AssertValid(int[] rowToCol, int rows, int cols)
    {
        Assert.Equal(rows, rowToCol.Length);
        var seen = new HashSet<int>();
        int assigned = 0;
        foreach (int c in rowToCol)
        {
            if (c < 0)
                continue;
            Assert.InRange(c, 0, cols - 1);
            Assert.True(seen.Add(c), "column assigned twice");
            assigned++;
        }
        Assert.Equal(Math.Min(rows, cols), assigned);
    }

    // Enumerates every injective map from the shorter side into the longer one.
    private static double BruteForce(double[] cost, int rows, int cols)
    {
        bool wide = rows <= cols;
        int n = wide ? rows : cols, m = wide ? cols : rows;
        double best = double.PositiveInfinity;
        var used = new bool[m];
        void Recurse(int i, double sum)
        {
            if (i == n)
            {
                best = Math.Min(best, sum);
                return;
            }
            for (int j = 0; j < m; j++)
            {
                if (used[j])
                    continue;
                used[j] = true;
                Recurse(i + 1, sum + (wide ? cost[i * cols + j] : cost[j * cols + i]));
                used[j] = false;
            }
        }
        Recurse(0, 0);
        return best;
    }
}
