import type { Point } from './geometry.ts';
import type { CitySpec } from './territory.ts';

/**
 * The demo city: the urban core of Jiamusi (佳木斯市), two districts, three streets each, four communities per
 * street, about 240 grids. The town lies on the south bank of the Songhua river, stretched east–west; the old
 * centre is the densest place, so grids there are smallest.
 */
export const demoCitySpec: CitySpec = {
  code: '230800',
  name: '佳木斯市',
  center: [130.32, 46.8],
  radiusKm: [6.2, 4],
  peaks: [
    { at: [130.335, 46.806], sigmaKm: 2.2, weight: 1 },
    { at: [130.265, 46.796], sigmaKm: 1.4, weight: 0.45 },
  ],
  districts: [
    { code: '230803', name: '向阳区' },
    { code: '230804', name: '前进区' },
  ],
  streets: { perParent: 3 },
  communities: { perParent: 4 },
  grids: { total: 240 },
  streetNames: ['西林街道', '建设街道', '保卫街道', '永安街道', '港湾街道', '南岗街道'],
  communityNames: [
    ...['西林社区', '杏林社区', '友谊社区', '光明社区'],
    ...['建设社区', '长安社区', '春晖社区', '红旗社区'],
    ...['保卫社区', '胜利社区', '新华社区', '和平社区'],
    ...['永安社区', '站前社区', '铁路社区', '东风社区'],
    ...['港湾社区', '江畔社区', '沿江社区', '兴华社区'],
    ...['南岗社区', '康乐社区', '福利社区', '民主社区'],
  ],
};

/** Area per grid (km²) used to size the generated cities: about 350 m across, an urban grid of 300–500 households. */
const squareKmPerGrid = 0.12;

function scaleCity(options: {
  code: string;
  name: string;
  center: Point;
  grids: number;
  districts: [string, string][];
  aspect?: number;
}): CitySpec {
  const { center, grids } = options;
  const aspect = options.aspect ?? 1.3;
  // Outline area ≈ 0.9·π·rx·ry (the hull of a jittered ellipse).
  const ry = Math.sqrt((grids * squareKmPerGrid) / (0.9 * Math.PI * aspect));
  const communities = Math.round(grids / 10);
  return {
    code: options.code,
    name: options.name,
    center,
    radiusKm: [ry * aspect, ry],
    peaks: [
      { at: center, sigmaKm: ry * 0.45, weight: 1 },
      { at: [center[0] + (ry * 0.5) / 76, center[1] - (ry * 0.3) / 111], sigmaKm: ry * 0.25, weight: 0.4 },
    ],
    districts: options.districts.map(([code, name]) => ({ code, name })),
    streets: { total: Math.max(options.districts.length, Math.round(communities / 7)) },
    communities: { total: communities },
    grids: { total: grids },
    lloydIterations: 3,
  };
}

/**
 * Harbin (哈尔滨市) sized like Jiamusi's real grid system (7,830 grids): `seed --scale city`.
 * Its code and place never meet the demo city's.
 */
export const scaleCitySpec: CitySpec = scaleCity({
  code: '230100',
  name: '哈尔滨市',
  center: [126.63, 45.75],
  grids: 7830,
  districts: [
    ['230102', '道里区'],
    ['230103', '南岗区'],
    ['230104', '道外区'],
    ['230108', '平房区'],
    ['230109', '松北区'],
    ['230110', '香坊区'],
    ['230111', '呼兰区'],
    ['230112', '阿城区'],
    ['230113', '双城区'],
  ],
});

/**
 * Heilongjiang's other cities at their real places, about 41,000 grids in all (Shanghai's 40,625 unit grids):
 * `seed --scale province`. Jiamusi (230800) is left to the demo city. Outlines are far apart (checked in tests).
 */
export const provinceCitySpecs: CitySpec[] = [
  scaleCitySpec,
  scaleCity({
    code: '230200',
    name: '齐齐哈尔市',
    center: [123.92, 47.35],
    grids: 6000,
    districts: [
      ['230202', '龙沙区'],
      ['230203', '建华区'],
      ['230204', '铁锋区'],
      ['230205', '昂昂溪区'],
      ['230206', '富拉尔基区'],
      ['230207', '碾子山区'],
      ['230208', '梅里斯达斡尔族区'],
    ],
  }),
  scaleCity({
    code: '230300',
    name: '鸡西市',
    center: [130.97, 45.3],
    grids: 3500,
    districts: [
      ['230302', '鸡冠区'],
      ['230303', '恒山区'],
      ['230304', '滴道区'],
      ['230305', '梨树区'],
      ['230306', '城子河区'],
      ['230307', '麻山区'],
    ],
  }),
  scaleCity({
    code: '230400',
    name: '鹤岗市',
    center: [130.3, 47.35],
    grids: 2500,
    districts: [
      ['230402', '向阳区'],
      ['230403', '工农区'],
      ['230404', '南山区'],
      ['230405', '兴安区'],
      ['230406', '东山区'],
      ['230407', '兴山区'],
    ],
  }),
  scaleCity({
    code: '230500',
    name: '双鸭山市',
    center: [131.16, 46.65],
    grids: 3000,
    districts: [
      ['230502', '尖山区'],
      ['230503', '岭东区'],
      ['230505', '四方台区'],
      ['230506', '宝山区'],
    ],
  }),
  scaleCity({
    code: '230600',
    name: '大庆市',
    center: [125.1, 46.59],
    grids: 6000,
    districts: [
      ['230602', '萨尔图区'],
      ['230603', '龙凤区'],
      ['230604', '让胡路区'],
      ['230605', '红岗区'],
      ['230606', '大同区'],
    ],
  }),
  scaleCity({
    code: '230700',
    name: '伊春市',
    center: [128.84, 47.73],
    grids: 2000,
    districts: [
      ['230717', '伊美区'],
      ['230718', '乌翠区'],
      ['230719', '友好区'],
      ['230751', '金林区'],
    ],
  }),
  scaleCity({
    code: '230900',
    name: '七台河市',
    center: [131.0, 45.77],
    grids: 2000,
    districts: [
      ['230902', '新兴区'],
      ['230903', '桃山区'],
      ['230904', '茄子河区'],
    ],
  }),
  scaleCity({
    code: '231000',
    name: '牡丹江市',
    center: [129.63, 44.55],
    grids: 5000,
    districts: [
      ['231002', '东安区'],
      ['231003', '阳明区'],
      ['231004', '爱民区'],
      ['231005', '西安区'],
    ],
  }),
  scaleCity({
    code: '231100',
    name: '黑河市',
    center: [127.5, 50.25],
    grids: 1500,
    districts: [['231102', '爱辉区']],
  }),
  scaleCity({
    code: '231200',
    name: '绥化市',
    center: [126.97, 46.65],
    grids: 1800,
    districts: [['231202', '北林区']],
  }),
];
