package data

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// CalHousingMember is the archive member holding the raw table.
const CalHousingMember = "CaliforniaHousing/cal_housing.data"

// CalHousingFeatures names the 8 features ReadCalHousing returns, in order (scikit-learn's
// feature_names).
var CalHousingFeatures = []string{"MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"}

// ReadCalHousing reads cal_housing.tgz and builds the data set as scikit-learn's
// fetch_california_housing does: from the raw columns (longitude, latitude, housingMedianAge,
// totalRooms, totalBedrooms, population, households, medianIncome, medianHouseValue) the features
// MedInc, HouseAge, AveRooms = totalRooms/households, AveBedrms = totalBedrooms/households,
// Population, AveOccup = population/households, Latitude, Longitude, and the target
// medianHouseValue/100000. Arithmetic is in float64 as in scikit-learn; the results are then
// rounded to float32, as FOB's tabular task does. features is row-major [n, 8].
func ReadCalHousing(tgzPath string) (features []float32, target []float32, err error) {
	f, err := os.Open(tgzPath)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: not a gzip archive: %w", tgzPath, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("data: %s: corrupt or truncated archive: %w", tgzPath, err)
		}
		if !found && strings.TrimPrefix(h.Name, "./") == CalHousingMember {
			found = true
			features, target, err = parseCalHousing(tr)
			if err != nil {
				return nil, nil, fmt.Errorf("data: %s: %s: %w", tgzPath, CalHousingMember, err)
			}
		}
	}
	// Reading to the end of the gzip stream makes it check its CRC and length trailer.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, nil, fmt.Errorf("data: %s: corrupt or truncated archive: %w", tgzPath, err)
	}
	if !found {
		return nil, nil, fmt.Errorf("data: %s: no %s in the archive", tgzPath, CalHousingMember)
	}
	return features, target, nil
}

func parseCalHousing(r io.Reader) ([]float32, []float32, error) {
	sc := bufio.NewScanner(r)
	var features, target []float32
	var raw [9]float64
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		fields := strings.Split(s, ",")
		if len(fields) != 9 {
			return nil, nil, fmt.Errorf("line %d has %d columns, want 9", line, len(fields))
		}
		for i, fs := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(fs), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d column %d: %w", line, i+1, err)
			}
			raw[i] = v
		}
		lon, lat, age, rooms, bedrooms, pop, households, income, value := raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8]
		features = append(features,
			float32(income), float32(age), float32(rooms/households), float32(bedrooms/households),
			float32(pop), float32(pop/households), float32(lat), float32(lon))
		target = append(target, float32(value/100000.0))
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("corrupt or truncated archive: %w", err)
	}
	if len(target) == 0 {
		return nil, nil, fmt.Errorf("no rows")
	}
	return features, target, nil
}
