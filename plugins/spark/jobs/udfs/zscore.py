"""A robust z-score per group, for `applyInPandas`: (x - median) / (1.4826 * MAD).

1.4826 scales the median absolute deviation to the standard deviation of a
normal distribution; a group whose MAD is 0 gets nulls (no spread to scale by).
"""


def make(column: str, output: str):
    def robust_zscore(pdf):
        x = pdf[column].astype("float64")
        med = x.median()
        mad = (x - med).abs().median()
        pdf[output] = (x - med) / (1.4826 * mad) if mad > 0 else float("nan")
        return pdf

    return robust_zscore
