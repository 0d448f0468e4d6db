// Minimum-cost linear assignment (the problem scipy.optimize.linear_sum_assignment solves), by the
// shortest-augmenting-path form of the Hungarian method (Jonker-Volgenant style potentials), O(n^2 m).
namespace SpineXR.Boxes;

/// <summary>Exact minimum-cost assignment on a dense rectangular cost matrix.</summary>
public static class LinearAssignment
{
    /// <summary>
    /// Assigns every row to a distinct column (rows &lt;= cols) or every column to a distinct row
    /// (rows &gt; cols) so that the summed cost is minimal.
    /// </summary>
    /// <param name="cost">Row-major <paramref name="rows"/> x <paramref name="cols"/> costs; all finite.</param>
    /// <returns>For each row the assigned column, or -1 when the row is left out (only when rows &gt; cols).</returns>
    public static int[] Solve(ReadOnlySpan<double> cost, int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (cost.Length != (long)rows * cols)
            throw new ArgumentException($"cost has {cost.Length} entries, expected {rows} x {cols}", nameof(cost));
        foreach (double c in cost)
            if (!double.IsFinite(c))
                throw new ArgumentException("cost matrix contains NaN or infinity", nameof(cost));

        var rowToCol = new int[rows];
        Array.Fill(rowToCol, -1);
        if (rows == 0 || cols == 0)
            return rowToCol;

        if (rows <= cols)
        {
            int[] colToRow = SolveWide(cost, rows, cols, transposed: false);
            for (int j = 0; j < cols; j++)
                if (colToRow[j] >= 0)
                    rowToCol[colToRow[j]] = j;
        }
        else
        {
            // Tall matrix: solve the transpose, where every column becomes a row that must be assigned.
            int[] rowOfTransposeToCol = SolveWide(cost, cols, rows, transposed: true);
            for (int i = 0; i < rows; i++)
                if (rowOfTransposeToCol[i] >= 0)
                    rowToCol[i] = rowOfTransposeToCol[i];
        }
        return rowToCol;
    }

    /// <summary>The assignment as (row, column) pairs sorted by row, as scipy returns them.</summary>
    public static (int[] Rows, int[] Cols) SolvePairs(ReadOnlySpan<double> cost, int rows, int cols)
    {
        int[] rowToCol = Solve(cost, rows, cols);
        int n = Math.Min(rows, cols);
        var r = new int[n];
        var c = new int[n];
        int k = 0;
        for (int i = 0; i < rows; i++)
        {
            if (rowToCol[i] < 0)
                continue;
            r[k] = i;
            c[k] = rowToCol[i];
            k++;
        }
        return (r, c);
    }

    /// <summary>Total cost of an assignment returned by <see cref="Solve"/>.</summary>
    public static double TotalCost(ReadOnlySpan<double> cost, int cols, ReadOnlySpan<int> rowToCol)
    {
        double sum = 0;
        for (int i = 0; i < rowToCol.Length; i++)
            if (rowToCol[i] >= 0)
                sum += cost[i * cols + rowToCol[i]];
        return sum;
    }

    // n <= m. Returns, for each of the m columns, the row (0-based) assigned to it or -1.
    // Potentials u (rows) and v (columns) keep reduced costs c - u - v >= 0; each row is added by a
    // Dijkstra-like search for the cheapest augmenting path, so the result is optimal after n rounds.
    private static int[] SolveWide(ReadOnlySpan<double> cost, int n, int m, bool transposed)
    {
        var u = new double[n + 1];
        var v = new double[m + 1];
        var p = new int[m + 1];      // p[j]: 1-based row matched to column j; p[0] is the row being added
        var way = new int[m + 1];    // previous column on the shortest path
        var minv = new double[m + 1];
        var used = new bool[m + 1];

        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Clear(used);
            do
            {
                used[j0] = true;
                int i0 = p[j0];
                double delta = double.PositiveInfinity;
                int j1 = -1;
                for (int j = 1; j <= m; j++)
                {
                    if (used[j])
                        continue;
                    double c = transposed ? cost[(j - 1) * n + (i0 - 1)] : cost[(i0 - 1) * m + (j - 1)];
                    double cur = c - u[i0] - v[j];
                    if (cur < minv[j])
                    {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if (minv[j] < delta)
                    {
                        delta = minv[j];
                        j1 = j;
                    }
                }
                for (int j = 0; j <= m; j++)
                {
                    if (used[j])
                    {
                        u[p[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minv[j] -= delta;
                    }
                }
                j0 = j1;
            }
            while (p[j0] != 0);

            // Flip the augmenting path.
            do
            {
                int j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }

        var colToRow = new int[m];
        for (int j = 1; j <= m; j++)
            colToRow[j - 1] = p[j] - 1;
        return colToRow;
    }
}
