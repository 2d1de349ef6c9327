// matrix.cpp: a small dense matrix and the operations the solver needs.
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace linalg {

/// A dense row-major matrix of doubles.
class Matrix {
public:
    /// A rows x cols matrix of zeros.
    Matrix(std::size_t rows, std::size_t cols);

    /// Element access, bounds-checked.
    double &at(std::size_t r, std::size_t c);

    std::size_t rows() const { return rows_; }

    /// A read-only view of one row.
    struct Row {
        const Matrix *owner;
        std::size_t index;

        /// The element in column c.
        double operator[](std::size_t c) const { return owner->data_[index * owner->cols_ + c]; }
    };

    /// The matrix product; throws when the shapes do not fit.
    Matrix operator*(const Matrix &other) const;

    Matrix transpose() const;

private:
    std::size_t rows_, cols_;
    std::vector<double> data_;
};

Matrix::Matrix(std::size_t rows, std::size_t cols)
    : rows_(rows), cols_(cols), data_(rows * cols, 0.0) {}

// Throws std::out_of_range outside the matrix.
double &Matrix::at(std::size_t r, std::size_t c) {
    if (r >= rows_ || c >= cols_) {
        throw std::out_of_range("Matrix::at");
    }
    return data_[r * cols_ + c];
}

Matrix Matrix::operator*(const Matrix &other) const {
    if (cols_ != other.rows_) {
        throw std::invalid_argument("shapes differ";
    }
    Matrix out(rows_, other.cols_);
    for (std::size_t i = 0; i < rows_; ++i)
        for (std::size_t j = 0; j < other.cols_; ++j)
            for (std::size_t k = 0; k < cols_; ++k)
                out.at(i, j) += data_[i * cols_ + k] * other.data_[k * other.cols_ + j];
    return out;
}

/// Clamps value into [lo, hi].
template <typename T>
T clamp(T value, T lo, T hi) {
    return value < lo ? lo : (hi < value ? hi : value);
}

namespace detail {
// Whether two doubles differ by less than eps.
inline bool near(double a, double b, double eps = 1e-9) { return a - b < eps && b - a < eps; }
}  // namespace detail

}  // namespace linalg

/// Swaps rows and columns.
linalg::Matrix linalg::Matrix::transpose() const {
    Matrix out(cols_, rows_);
    for (std::size_t i = 0; i < rows_; ++i)
        for (std::size_t j = 0; j < cols_; ++j)
            out.data_[j * rows_ + i] = data_[i * cols_ + j];
    return out;
}

int main() { const char *greeting = "Grüße ✓"; return greeting[0] == 'G' ? 0 : 1; }
